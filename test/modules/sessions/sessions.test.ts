import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTable, teamRows } from '../../helpers/access-table.js';
import { expectError, invalid, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';

const CLICK_IDS = [
  ...['gclid', 'gad_source', 'gclsrc', 'dclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid'],
  ...['twclid', 'li_fat_id', 'mc_cid', 'igshid', 'ttclid', '_kx', 'irclid'],
];

/** The visible session properties of PostHog's v2 sessions table, in its order, with their property_type. */
const PROPERTIES: [string, string][] = [
  ['$start_timestamp', 'DateTime'],
  ['$end_timestamp', 'DateTime'],
  ['$entry_current_url', 'String'],
  ['$entry_pathname', 'String'],
  ['$entry_hostname', 'String'],
  ['$end_current_url', 'String'],
  ['$end_pathname', 'String'],
  ['$end_hostname', 'String'],
  ['$entry_referring_domain', 'String'],
  ...['utm_source', 'utm_campaign', 'utm_medium', 'utm_term', 'utm_content'].map((n): [string, string] => [`$entry_${n}`, 'String']),
  ...CLICK_IDS.map((n): [string, string] => [`$entry_${n}`, 'String']),
  ['$pageview_count', 'Numeric'],
  ['$autocapture_count', 'Numeric'],
  ['$screen_count', 'Numeric'],
  ['$channel_type', 'String'],
  ['$session_duration', 'Duration'],
  ['$is_bounce', 'Boolean'],
  ['$last_external_click_url', 'String'],
  ['$vitals_lcp', 'Numeric'],
];
const NUMERICAL = ['$pageview_count', '$autocapture_count', '$screen_count', '$session_duration', '$vitals_lcp'];
const HIDDEN = [
  ...['id', 'session_id', 'session_id_v7', 'team_id', 'distinct_id', 'max_inserted_at', '$urls', '$num_uniq_urls'],
  ...['duration', '$exit_current_url', '$exit_pathname'],
];
const DEFAULT_CHANNELS = [
  'Cross Network',
  'Paid Search',
  'Paid Social',
  'Paid Video',
  'Paid Shopping',
  'Paid Unknown',
  'Direct',
  'Organic Search',
  'Organic Social',
  'Organic Video',
  'Organic Shopping',
  'Push',
  'SMS',
  'Audio',
  'Email',
  'Referral',
  'Affiliate',
  'Unknown',
];

interface Visit {
  session: string;
  /** The properties of the visit's first pageview (URL, referring domain, UTM fields...). */
  entry: Record<string, unknown>;
  /** The URL of a later pageview, if the visit went on. */
  endUrl?: string;
  /** Minutes after 2026-12-01T10:00Z when the visit started. */
  at?: number;
}

describe('sessions: property definitions and values', () => {
  let ctx: TestContext;
  let make: Factories;
  let owner: Tenant;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
    owner = await make.tenant();
  });
  afterAll(() => ctx.close());

  /** Sends the visits to /e/ as posthog-js would, with the team's project token. */
  async function capture(tenant: Tenant, visits: Visit[]) {
    const token = await make.projectToken(tenant);
    const batch = visits.flatMap(({ session, entry, endUrl, at = 0 }) => {
      const start = Date.parse('2026-12-01T10:00:00Z') + at * 60_000;
      const pageview = (url: unknown, ms: number, extra: Record<string, unknown> = {}) => ({
        uuid: randomUUID(),
        event: '$pageview',
        properties: { distinct_id: `visitor-${session}`, $session_id: session, $current_url: url, ...extra },
        timestamp: new Date(start + ms).toISOString(),
      });
      return [pageview(entry.$current_url, 0, entry), ...(endUrl ? [pageview(endUrl, 30_000)] : [])];
    });
    const response = await ctx.app.inject({ method: 'POST', url: '/e/', payload: { api_key: token, batch } });
    expect(response.statusCode, response.body).toBe(200);
  }

  const definitions = async (query = '') =>
    ok<{ count: number; results: Record<string, unknown>[] }>(await owner.call('GET', `/api/projects/${owner.teamId}/sessions/property_definitions/${query}`));
  const names = async (query = '') => (await definitions(query)).results.map((r) => r.name);
  const values = async (key: string, value?: string, tenant = owner) => {
    const params = new URLSearchParams({ key, ...(value !== undefined && { value }) });
    const url = `/api/environments/${tenant.teamId}/sessions/values/?${params}`;
    const body = ok<{ results: { name: string }[]; refreshing: boolean }>(await tenant.call('GET', url));
    expect(Object.keys(body)).toEqual(['results', 'refreshing']);
    expect(body.refreshing).toBe(false);
    return body.results.map((r) => r.name);
  };

  accessTable(
    () => ctx,
    teamRows([
      { method: 'GET', path: '/sessions/property_definitions/', scope: 'query:read', status: 200 },
      { method: 'GET', path: '/sessions/values/?key=$entry_utm_source', scope: 'query:read', status: 200 },
      { method: 'GET', path: '/sessions/values/?key=$channel_type', scope: 'query:read', status: 200 },
    ]),
  );

  describe('property_definitions', () => {
    it('lists every visible session property in PostHog’s order and shape, and no hidden one', async () => {
      const body = await definitions();
      expect(Object.keys(body)).toEqual(['count', 'results']);
      expect(body.count).toBe(PROPERTIES.length);
      expect(body.results.map((r) => [r.name, r.property_type])).toEqual(PROPERTIES);
      expect(body.results[0]).toEqual({
        id: '$start_timestamp',
        name: '$start_timestamp',
        is_numerical: false,
        property_type: 'DateTime',
        is_seen_on_filtered_events: null,
        tags: [],
      });
      expect(Object.keys(body.results[0]!)).toEqual(['id', 'name', 'is_numerical', 'property_type', 'is_seen_on_filtered_events', 'tags']);
      expect(body.results.filter((r) => r.is_numerical).map((r) => r.name)).toEqual(NUMERICAL);
      for (const hidden of HIDDEN) expect(await names(`?search=${encodeURIComponent(hidden)}`)).not.toContain(hidden);
    });

    it('keeps the properties whose name holds every \\w+ word of the search, in any case', async () => {
      expect(await names('?search=utm')).toEqual(['$entry_utm_source', '$entry_utm_campaign', '$entry_utm_medium', '$entry_utm_term', '$entry_utm_content']);
      expect(await names('?search=URL%20entry')).toEqual(['$entry_current_url']);
      expect(await names('?search=end-PATH')).toEqual(['$end_pathname']);
      expect(await names('?search=count%20screen')).toEqual(['$screen_count']);
      expect(await names('?search=nothing_like_it')).toEqual([]);
      // No word at all (only punctuation, or empty) filters nothing.
      expect(await names('?search=%24')).toHaveLength(PROPERTIES.length);
      expect(await names('?search=')).toHaveLength(PROPERTIES.length);
      expect((await definitions('?search=nothing_like_it')).count).toBe(0);
    });

    it('splits on is_numerical: "true" in any case keeps the numeric ones, any other value the others', async () => {
      expect(await names('?is_numerical=true')).toEqual(NUMERICAL);
      expect(await names('?is_numerical=TRUE')).toEqual(NUMERICAL);
      const others = PROPERTIES.map(([name]) => name).filter((name) => !NUMERICAL.includes(name));
      expect(await names('?is_numerical=false')).toEqual(others);
      expect(await names('?is_numerical=1')).toEqual(others);
      expect(await names('?is_numerical=')).toEqual(others);
      expect(await definitions('?is_numerical=true&search=count')).toMatchObject({ count: 3 });
    });
  });

  describe('values', () => {
    let team: Tenant;

    beforeAll(async () => {
      team = await make.tenant();
      await capture(team, [
        {
          session: 's1',
          entry: {
            $current_url: 'https://shop.example.com/pricing?plan=pro#top',
            $referring_domain: 'www.google.com',
            ...{ utm_source: 'google', utm_medium: 'cpc', gclid: 'gc-1' },
          },
          endUrl: 'https://shop.example.com/checkout/done?x=1',
        },
        { session: 's2', entry: { $current_url: 'https://shop.example.com/pricing', $referring_domain: 'www.google.com', utm_source: 'google' }, at: 1 },
        { session: 's3', entry: { $current_url: 'https://shop.example.com/', utm_source: 'Google Ads' }, at: 2 },
        {
          session: 's4',
          entry: { $current_url: 'https://shop.example.com/blog/post', $referring_domain: 'news.ycombinator.com', utm_source: 'newsletter' },
          at: 3,
        },
        { session: 's5', entry: { $current_url: 'https://shop.example.com/blog/post', utm_source: 'newsletter' }, at: 4 },
        { session: 's6', entry: { $current_url: 'https://shop.example.com/blog/post', utm_source: 'google' }, at: 5 },
        // No UTM source, an empty one, and a URL with no path: never listed.
        { session: 's7', entry: { $current_url: 'https://shop.example.com' }, at: 6 },
        { session: 's8', entry: { $current_url: 'https://shop.example.com', utm_source: '' }, at: 7 },
        // Values PostHog JSON-decodes: a list is flattened, an object written as sorted Python JSON, a bool as true.
        {
          session: 's9',
          entry: { $current_url: 'not a url', utm_content: '["spring", ["sale", 2]]', utm_term: '{"b": 1, "a": "é"}', utm_campaign: 'true' },
          at: 8,
        },
        { session: 's10', entry: { $current_url: 'https://shop.example.com/x', utm_content: '12345678901234567890', utm_campaign: 'null' }, at: 9 },
      ]);
    });

    it('lists the 20 most frequent values of the team’s sessions, most frequent first, ties by value', async () => {
      expect(await values('$entry_utm_source', undefined, team)).toEqual(['google', 'newsletter', 'Google Ads']);
      expect(await values('$entry_utm_medium', undefined, team)).toEqual(['cpc']);
      expect(await values('$entry_gclid', undefined, team)).toEqual(['gc-1']);
      expect(await values('$entry_referring_domain', undefined, team)).toEqual(['www.google.com', 'news.ycombinator.com']);
      expect(await values('$entry_current_url', undefined, team)).toEqual([
        'https://shop.example.com/blog/post',
        'https://shop.example.com',
        'https://shop.example.com/',
        'https://shop.example.com/pricing',
        'https://shop.example.com/pricing?plan=pro#top',
        'https://shop.example.com/x',
        'not a url',
      ]);
      expect(await values('$end_current_url', undefined, team)).toContain('https://shop.example.com/checkout/done?x=1');
    });

    it('derives pathnames as ClickHouse’s path(): no query or fragment, nothing without a //host', async () => {
      expect(await values('$entry_pathname', undefined, team)).toEqual(['/blog/post', '/pricing', '/', '/x']);
      expect(await values('$end_pathname', undefined, team)).toEqual(['/blog/post', '/', '/checkout/done', '/pricing', '/x']);
    });

    it('filters with ILIKE %value%', async () => {
      expect(await values('$entry_utm_source', 'GOO', team)).toEqual(['google', 'Google Ads']);
      expect(await values('$entry_utm_source', 'letter', team)).toEqual(['newsletter']);
      expect(await values('$entry_utm_source', 'bing', team)).toEqual([]);
      expect(await values('$entry_pathname', 'BLOG', team)).toEqual(['/blog/post']);
      // An empty value is no filter.
      expect(await values('$entry_utm_source', '', team)).toEqual(['google', 'newsletter', 'Google Ads']);
    });

    it('JSON-decodes values, flattens lists and writes them as PostHog does', async () => {
      expect(await values('$entry_utm_content', undefined, team)).toEqual(['12345678901234567890', 'spring', 'sale', '2']);
      expect(await values('$entry_utm_term', undefined, team)).toEqual(['{"a": "\\u00e9", "b": 1}']);
      expect(await values('$entry_utm_campaign', undefined, team)).toEqual(['None', 'true']);
    });

    it('answers "1" and "0" for $is_bounce, and nothing for numbers, dates, unknown keys and what is not stored', async () => {
      expect(await values('$is_bounce', undefined, team)).toEqual(['1', '0']);
      const empty = [
        ...['$pageview_count', '$session_duration', '$vitals_lcp', '$start_timestamp'],
        ...['$entry_hostname', '$end_hostname', '$last_external_click_url', 'distinct_id', '$exit_pathname', '$nope'],
      ];
      for (const key of empty) expect(await values(key, undefined, team), key).toEqual([]);
    });

    it('keeps at most 20 values', async () => {
      const many = await make.tenant();
      await capture(
        many,
        Array.from({ length: 25 }, (_, i) => ({
          session: `m${i}`,
          entry: { $current_url: 'https://a.example.com/', utm_source: `source-${String(i).padStart(2, '0')}` },
          at: i,
        })),
      );
      await capture(many, [{ session: 'm-extra', entry: { $current_url: 'https://a.example.com/', utm_source: 'source-24' }, at: 30 }]);
      const listed = await values('$entry_utm_source', undefined, many);
      expect(listed).toHaveLength(20);
      expect(listed.slice(0, 3)).toEqual(['source-24', 'source-00', 'source-01']);
    });

    it('reads only the 100,000 most recent sessions that have a value (or match the search)', async () => {
      const big = await make.tenant();
      await capture(big, [{ session: 'oldest', entry: { $current_url: 'https://a.example.com/', utm_source: 'old-source' }, at: -60 }]);
      await ctx.database.db.execute(sql`
        insert into raw_sessions (team_id, session_id, distinct_id, start_timestamp, end_timestamp, entry_attribution)
        select ${big.teamId}, 'bulk-' || n, 'd', timestamptz '2026-12-01T10:00:00Z' + n * interval '1 second',
               timestamptz '2026-12-01T10:00:00Z' + n * interval '1 second', jsonb_build_object('utm_source', 'bulk')
        from generate_series(1, 100000) as n`);
      expect(await values('$entry_utm_source', undefined, big)).toEqual(['bulk']);
      expect(await values('$entry_utm_source', 'old', big)).toEqual(['old-source']);
    });

    it('lists the default channel types, after the team’s custom channel names, deduplicated; the search filters the defaults', async () => {
      expect(await values('$channel_type', undefined, team)).toEqual(DEFAULT_CHANNELS);
      expect(await values('$channel_type', 'PAID', team)).toEqual(DEFAULT_CHANNELS.filter((c) => c.startsWith('Paid')));
      expect(await values('$channel_type', 'sea', team)).toEqual(['Paid Search', 'Organic Search']);

      const rules = [
        { id: 'r1', channel_type: 'Newsletter', combiner: 'AND', items: [] },
        { id: 'r2', channel_type: 'Direct', combiner: 'AND', items: [] },
      ];
      ok(await team.call('PATCH', `/api/projects/${team.teamId}/`, { modifiers: { customChannelTypeRules: rules } }));
      expect(await values('$channel_type', undefined, team)).toEqual(['Newsletter', 'Direct', ...DEFAULT_CHANNELS.filter((c) => c !== 'Direct')]);
      const paid = ['Paid Search', 'Paid Social', 'Paid Video', 'Paid Shopping', 'Paid Unknown'];
      expect(await values('$channel_type', 'paid', team)).toEqual(['Newsletter', 'Direct', ...paid]);
    });

    it('answers 400 "Key not provided" without a key', async () => {
      for (const query of ['', '?key=', '?value=google']) {
        const response = await team.call('GET', `/api/projects/${team.teamId}/sessions/values/${query}`);
        expectError(response, 400, invalid('Key not provided', null));
      }
    });

    it('sees only the team’s own sessions', async () => {
      const other = await make.tenant({ organizationName: 'Other' });
      await capture(other, [{ session: 's1', entry: { $current_url: 'https://other.example.com/only-here', utm_source: 'bing' } }]);
      expect(await values('$entry_utm_source', undefined, other)).toEqual(['bing']);
      expect(await values('$entry_pathname', undefined, other)).toEqual(['/only-here']);
      expect(await values('$entry_utm_source', undefined, team)).toEqual(['google', 'newsletter', 'Google Ads']);
      expect(await values('$entry_utm_source', 'bing', team)).toEqual([]);
    });
  });
});
