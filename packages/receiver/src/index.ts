export { createReceiverApp, type ReceiverAppOptions } from './app.js';
export { startReceiver, type RunningReceiver } from './server.js';
export { receiverConfigSchema, loadReceiverConfig, type ReceiverConfig } from './config.js';
export { verifyStripeEvent, type VerifyOptions } from './verify.js';
export { WebhookRequestError, type WebhookErrorCode } from './errors.js';
export { ReceiverMetrics } from './metrics.js';
export { createLogger } from './logger.js';
export { createCodecApp, type CodecAppOptions, type PayloadCodecLike } from './codec-app.js';
export { codecConfigSchema, loadCodecConfig, type CodecConfig } from './codec-config.js';
