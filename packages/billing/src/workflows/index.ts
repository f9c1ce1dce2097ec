// Sandbox-safe entry: the billing workflows (bundle entry for workers).
export { collectInvoicePayment } from './collect-invoice-payment.js';
export { assembleDraftInvoice } from './assemble-draft-invoice.js';
