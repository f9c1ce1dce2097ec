// Sandbox-safe entry: the billing workflows (bundle entry for workers).
export { collectInvoicePayment } from './collect-invoice-payment.js';
export { assembleDraftInvoice } from './assemble-draft-invoice.js';
export { handleUsageAlert } from './handle-usage-alert.js';
export { remindTrialEnding } from './remind-trial-ending.js';
export { reportUsage } from './report-usage.js';
