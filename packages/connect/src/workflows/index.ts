// Sandbox-safe entry: the Connect workflows (bundle entry for workers).
export { onboardConnectedAccount } from './onboard-connected-account.js';
export { reverseTransfer } from './reverse-transfer.js';
export { followPayoutFailure } from './follow-payout-failure.js';
