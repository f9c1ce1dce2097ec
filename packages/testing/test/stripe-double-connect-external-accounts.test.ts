// External accounts in the Stripe API double: a connected account's bank accounts listed under
// the account, as stripe-node's accounts.listExternalAccounts reads them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StripeApiDouble } from '../src/index.js';

let double: StripeApiDouble;
beforeAll(async () => {
  double = await StripeApiDouble.start();
});
afterAll(async () => {
  await double?.stop();
});

it('lists and retrieves the bank accounts of one connected account only', async () => {
  double.seed('account', { id: 'acct_ext1' });
  double.seed('account', { id: 'acct_ext2' });
  double.seed('bank_account', { id: 'ba_ext1', account: 'acct_ext1', last4: '4242', status: 'new' });
  double.seed('bank_account', { id: 'ba_ext2', account: 'acct_ext2', last4: '1111', status: 'errored' });
  const stripe = double.client();
  const list = await stripe.accounts.listExternalAccounts('acct_ext1');
  expect(list.data.map((e) => [e.id, e.object, 'last4' in e ? e.last4 : null])).toEqual([['ba_ext1', 'bank_account', '4242']]);
  expect(list.url).toBe('/v1/accounts/acct_ext1/external_accounts');
  const one = await stripe.accounts.retrieveExternalAccount('acct_ext1', 'ba_ext1');
  expect(one.id).toBe('ba_ext1');
  await expect(stripe.accounts.retrieveExternalAccount('acct_ext1', 'ba_ext2')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  expect(double.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/accounts/acct_ext1/external_accounts/ba_ext2', status: 404 });
});
