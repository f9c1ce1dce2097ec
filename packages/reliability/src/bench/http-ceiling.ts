#!/usr/bin/env node
// The HTTP ceiling of durable ingest: a bare Express handler that only verifies the signature on
// the raw body with stripe-node and answers, on the same HTTP server settings as the receiver.
// Environment (this process's only env read): PORT, STRIPE_WEBHOOK_SECRET.
import { createServer } from 'node:http';
import express from 'express';
import Stripe from 'stripe';

const port = Number(process.env['PORT'] ?? '0');
const secret = process.env['STRIPE_WEBHOOK_SECRET'] ?? '';
const stripe = new Stripe('sk_test_bench_only');
const app = express();
app.disable('x-powered-by');
app.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb', inflate: false }), (req, res) => {
  try {
    const event = stripe.webhooks.constructEvent(req.body as Buffer, req.get('stripe-signature') ?? '', secret, 300);
    res.json({ received: true, id: event.id });
  } catch (error) {
    res.status(400).json({ error: { message: (error as Error).message } });
  }
});
const server = createServer({ requestTimeout: 10_000 }, app);
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`http ceiling listening on ${port}`));
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
