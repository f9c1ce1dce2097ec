// Loaded by workers and clients through `failureConverterPath` when payload encryption is on:
// failure messages and stack traces travel as an encoded (so encrypted) payload, not as text.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
