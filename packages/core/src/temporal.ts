import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from './codec.js';
import type { TemporalConfig } from './config.js';

/** Connection options for a local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key). */
export async function temporalConnectionOptions(config: TemporalConfig) {
  const tls =
    config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
      ? {
          clientCertPair: {
            crt: await readFile(config.TEMPORAL_TLS_CERT_PATH),
            key: await readFile(config.TEMPORAL_TLS_KEY_PATH),
          },
        }
      : config.TEMPORAL_TLS || config.TEMPORAL_API_KEY
        ? true
        : false;
  return {
    address: config.TEMPORAL_ADDRESS,
    tls,
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

/** A Temporal client for the configured namespace (payloads encrypted when keys are configured). */
export async function connectTemporalClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({ ...(await temporalConnectionOptions(config)), connectTimeout: '5s' });
  const dataConverter = dataConverterFor(config);
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, ...(dataConverter ? { dataConverter } : {}) });
}
