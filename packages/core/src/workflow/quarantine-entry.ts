// Bundle entry for the quarantine worker: only workflow functions live here.
export { holdQuarantinedEvent } from './quarantine.js';
