import { z } from 'zod';
import { paginated, pageParams, withQueryParam } from '../../http/pagination.js';
import { actorOf, type RoutePlugin, teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import { ErrorSchema } from '../../http/schemas.js';
import { HardDeleteNotAllowedError } from '../../lib/errors.js';
import {
  CreateSubscriptionBody,
  DeliveryIdParams,
  DeliveryListQuery,
  DeliveryParams,
  PatchSubscriptionBody,
  SubscriptionDeliveryListSchema,
  SubscriptionDeliverySchema,
  SubscriptionIdParams,
  SubscriptionListQuery,
  SubscriptionListSchema,
  SubscriptionRetrieveQuery,
  SubscriptionSchema,
  SummaryQuotaSchema,
  UnsubscribeQuery,
  UnsubscribeSchema,
} from './contract.js';
import type { SubscriptionsService } from './service.js';

const read = { object: 'subscription', action: 'read' } as const;
const write = { object: 'subscription', action: 'write' } as const;

/** Subscriptions under both prefixes: the API, its rules and the delivery history. */
export const subscriptionsRoutes = (subscriptions: SubscriptionsService) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['subscriptions'];

    app.get(
      '/subscriptions/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'subscriptions_list',
          tags,
          summary: 'Subscriptions of this project, newest first; deleted ones only with ?deleted=true',
          querystring: SubscriptionListQuery,
          response: { 200: SubscriptionListSchema },
        },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { results, count } = await subscriptions.list(teamOf(request), request.query, page);
        return paginated(request, page, count, results);
      },
    );

    app.post(
      '/subscriptions/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'subscriptions_create',
          tags,
          summary: 'Create a subscription to an insight, a dashboard, a saved heatmap or a recordings query; an email subscription invites its recipients',
          body: CreateSubscriptionBody,
          response: { 201: SubscriptionSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await subscriptions.create(teamOf(request), actorOf(request), request.body)),
    );

    app.get(
      '/subscriptions/summary_quota/',
      {
        config: { access: { scope: read, target: team } },
        schema: { operationId: 'subscriptions_summary_quota_retrieve', tags, summary: 'AI summaries in use and the limit (none)', response: { 200: SummaryQuotaSchema } },
      },
      async (request) => subscriptions.summaryQuota(teamOf(request)),
    );

    app.get(
      '/subscriptions/:id/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'subscriptions_retrieve',
          tags,
          summary: 'A subscription, deleted or not',
          params: SubscriptionIdParams,
          querystring: SubscriptionRetrieveQuery,
          response: { 200: SubscriptionSchema },
        },
      },
      async (request) => subscriptions.retrieve(teamOf(request), request.params.id, request.query),
    );

    app.put(
      '/subscriptions/:id/',
      {
        config: { access: { scope: write, target: team } },
        schema: { operationId: 'subscriptions_update', tags, params: SubscriptionIdParams, body: CreateSubscriptionBody, response: { 200: SubscriptionSchema } },
      },
      async (request) => subscriptions.update(teamOf(request), actorOf(request), request.params.id, request.body),
    );

    app.patch(
      '/subscriptions/:id/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'subscriptions_partial_update',
          tags,
          summary: 'Change a subscription; deleted: true soft-deletes it',
          params: SubscriptionIdParams,
          body: PatchSubscriptionBody,
          response: { 200: SubscriptionSchema },
        },
      },
      async (request) => subscriptions.update(teamOf(request), actorOf(request), request.params.id, request.body ?? {}),
    );

    app.post(
      '/subscriptions/:id/test-delivery/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'subscriptions_test_delivery_create',
          tags,
          summary: "Sends the report now to the subscription's target (a manual delivery; the schedule does not move)",
          params: SubscriptionIdParams,
          response: {
            202: z.null().meta({ description: 'Queued, with an empty body' }),
            404: ErrorSchema,
            409: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        await subscriptions.testDelivery(teamOf(request), request.params.id);
        return reply.code(202).serializer(() => '').send(null);
      },
    );

    app.get(
      '/subscriptions/:subscription_id/deliveries/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'subscriptions_deliveries_list',
          tags,
          summary: "The subscription's delivery history, newest first (cursor pages of 50; ?status= filters)",
          params: DeliveryParams,
          querystring: DeliveryListQuery,
          response: { 200: SubscriptionDeliveryListSchema },
        },
      },
      async (request) => {
        const { results, nextCursor } = await subscriptions.deliveries(teamOf(request), request.params.subscription_id, request.query);
        return { next: nextCursor && withQueryParam(request.absoluteUrl(), 'cursor', nextCursor), previous: null, results };
      },
    );

    app.get(
      '/subscriptions/:subscription_id/deliveries/:id/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'subscriptions_deliveries_retrieve',
          tags,
          summary: 'A delivery of the subscription',
          params: DeliveryIdParams,
          response: { 200: SubscriptionDeliverySchema },
        },
      },
      async (request) => subscriptions.delivery(teamOf(request), request.params.subscription_id, request.params.id),
    );

    app.delete(
      '/subscriptions/:id/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'subscriptions_destroy',
          tags,
          summary: 'Hard delete of this model is not allowed. Use a patch API call to set "deleted" to true',
          params: SubscriptionIdParams,
          response: { 405: z.null().meta({ description: 'Always, with an empty body' }) },
        },
      },
      async () => {
        throw new HardDeleteNotAllowedError();
      },
    );
  });

/** GET /api/unsubscribe?token=: a subscription email's unsubscribe link (public: the token is the credential). */
export const unsubscribeRoutes =
  (subscriptions: SubscriptionsService): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/unsubscribe',
      {
        config: { access: 'public' },
        schema: {
          operationId: 'unsubscribe',
          tags: ['subscriptions'],
          summary: "Removes the token's address from its subscription (soft-deleted when none remain); the token comes from a subscription email (30 days)",
          querystring: UnsubscribeQuery,
          response: { 200: UnsubscribeSchema },
        },
      },
      async (request) => subscriptions.unsubscribe(request.query.token),
    );
  };
