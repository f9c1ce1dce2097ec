// @stripe-flows/reliability: scenarios that prove the delivery guarantees, shared by the tests
// and the report script.
export {};
