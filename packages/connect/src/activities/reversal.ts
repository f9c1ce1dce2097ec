import type Stripe from 'stripe';
import { stripeCall } from '@stripe-flows/core';
import { chargeProjection, refundProjection, type ChargeSnapshot, type RefundSnapshot, type TransferSnapshot } from '../schemas.js';
import { requestOptions, type ConnectActivityDeps, type NotifyActivity } from './shared.js';

/** Metadata key on reversals and fee refunds naming the refund or dispute they answer. */
export const REVERSED_FOR_KEY = 'stripe_flows_for';

/** A charge, read as the account it lives on (a direct charge lives on the connected account). */
export interface ChargeCall {
  chargeId: string;
  account?: string;
}

/** One reversal: how much of which transfer, for which refund or dispute. */
export interface ReversalRequest {
  transferId: string;
  amount: number;
  refundApplicationFee: boolean;
  /** Refund (`re_`) or dispute (`dp_`) id this reversal answers. */
  forId: string;
  chargeId: string;
  idempotencyKey: string;
}

export interface FeeRefundRequest {
  feeId: string;
  amount: number;
  forId: string;
  chargeId: string;
  idempotencyKey: string;
}

export interface ApplicationFeeSnapshot {
  id: string;
  amount: number;
  amountRefunded: number;
  refundedFor: string[];
}

function reversedFor(list: ReadonlyArray<{ metadata?: Stripe.Metadata | null }>): string[] {
  return list.map((r) => r.metadata?.[REVERSED_FOR_KEY]).filter((v): v is string => typeof v === 'string' && v !== '');
}

/** Transfer reversal's Stripe calls. Transfers, reversals and application fees are platform objects. */
export function createReversalActivities({ stripe }: Pick<ConnectActivityDeps, 'stripe'>) {
  return {
    async retrieveCharge(call: ChargeCall): Promise<ChargeSnapshot> {
      const charge = await stripeCall(`GET /v1/charges/${call.chargeId}`, () =>
        stripe.charges.retrieve(call.chargeId, {}, requestOptions(call)),
      );
      return chargeProjection.parse(charge);
    },

    /** Every refund of the charge, oldest first (charge objects no longer embed refunds). */
    async listRefunds(call: ChargeCall): Promise<RefundSnapshot[]> {
      const refunds = await stripeCall(`GET /v1/refunds?charge=${call.chargeId}`, () =>
        stripe.refunds.list({ charge: call.chargeId, limit: 100 }, requestOptions(call)).autoPagingToArray({ limit: 10_000 }),
      );
      return refunds.map((r) => refundProjection.parse(r)).sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
    },

    /** Transfers of a transfer group (separate charges and transfers), oldest first. */
    async listGroupTransfers(call: { transferGroup: string }): Promise<string[]> {
      const transfers = await stripeCall(`GET /v1/transfers?transfer_group=${call.transferGroup}`, () =>
        stripe.transfers.list({ transfer_group: call.transferGroup, limit: 100 }).autoPagingToArray({ limit: 1000 }),
      );
      return transfers.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id)).map((t) => t.id);
    },

    /** A transfer as it is now: what remains to reverse and which refunds it was reversed for. */
    async retrieveTransfer(call: { transferId: string }): Promise<TransferSnapshot> {
      const transfer = await stripeCall(`GET /v1/transfers/${call.transferId}`, () => stripe.transfers.retrieve(call.transferId));
      let reversals = transfer.reversals?.data ?? [];
      if (transfer.reversals?.has_more) {
        reversals = await stripeCall(`GET /v1/transfers/${call.transferId}/reversals`, () =>
          stripe.transfers.listReversals(call.transferId, { limit: 100 }).autoPagingToArray({ limit: 10_000 }),
        );
      }
      return {
        id: transfer.id,
        amount: transfer.amount,
        amountReversed: transfer.amount_reversed,
        currency: transfer.currency,
        destination: typeof transfer.destination === 'string' ? transfer.destination : (transfer.destination?.id ?? null),
        reversedFor: reversedFor(reversals),
      };
    },

    /**
     * `POST /v1/transfers/:id/reversals`. A connected balance too low to cover it fails with
     * Stripe's `balance_insufficient` (non-retryable here: the flow retries it on its own schedule).
     */
    async reverseTransfer(request: ReversalRequest): Promise<{ reversalId: string; amount: number }> {
      const reversal = await stripeCall(`POST /v1/transfers/${request.transferId}/reversals`, () =>
        stripe.transfers.createReversal(
          request.transferId,
          {
            amount: request.amount,
            refund_application_fee: request.refundApplicationFee,
            metadata: { [REVERSED_FOR_KEY]: request.forId, charge: request.chargeId },
          },
          requestOptions(request),
        ),
      );
      return { reversalId: reversal.id, amount: reversal.amount };
    },

    async retrieveApplicationFee(call: { feeId: string }): Promise<ApplicationFeeSnapshot> {
      const fee = await stripeCall(`GET /v1/application_fees/${call.feeId}`, () => stripe.applicationFees.retrieve(call.feeId));
      let refunds = fee.refunds?.data ?? [];
      if (fee.refunds?.has_more) {
        refunds = await stripeCall(`GET /v1/application_fees/${call.feeId}/refunds`, () =>
          stripe.applicationFees.listRefunds(call.feeId, { limit: 100 }).autoPagingToArray({ limit: 10_000 }),
        );
      }
      return { id: fee.id, amount: fee.amount, amountRefunded: fee.amount_refunded, refundedFor: reversedFor(refunds) };
    },

    /** `POST /v1/application_fees/:id/refunds`: give the platform's fee back (direct charges). */
    async refundApplicationFee(request: FeeRefundRequest): Promise<{ feeRefundId: string; amount: number }> {
      const refund = await stripeCall(`POST /v1/application_fees/${request.feeId}/refunds`, () =>
        stripe.applicationFees.createRefund(
          request.feeId,
          { amount: request.amount, metadata: { [REVERSED_FOR_KEY]: request.forId, charge: request.chargeId } },
          requestOptions(request),
        ),
      );
      return { feeRefundId: refund.id, amount: refund.amount };
    },
  };
}

export type ReversalActivities = ReturnType<typeof createReversalActivities> & NotifyActivity;
