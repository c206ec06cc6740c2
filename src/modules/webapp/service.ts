import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import { NotFoundError } from '../../lib/errors.js';
import type { AuthService } from '../auth/index.js';
import type { Actor, ProjectsService, UsersService } from '../identity/index.js';
import type { Preflight } from './contract.js';
import { escapeJs, renderTemplate } from './template.js';

export interface WebappServiceDeps {
  config: Pick<Config, 'posthogFrontend' | 'siteUrl' | 'email' | 'llm'>;
  auth: Pick<AuthService, 'authenticateSession' | 'resolveTeam'>;
  users: Pick<UsersService, 'retrieve' | 'update'>;
  projects: Pick<ProjectsService, 'retrieve'>;
  /** Rejects when the database does not answer. */
  ping: () => Promise<unknown>;
  countUsers: () => Promise<number>;
  version: string;
}

/** PostHog's frontend_unauthenticated_routes: the pages an anonymous visitor gets; any other page sends them to /login. */
const UNAUTHENTICATED = /^\/(preflight|signup|reset|login|unsubscribe|verify_email|organization\/billing\/subscribed|organization\/confirm-creation)(\/|$)/;

/** The team a page's path names (/project/<id>/...), whose user's current team PostHog's middleware switches to. */
const PROJECT_PATH = /^\/project\/(\d+)(\/|$)/;

let timezones: { at: number; offsets: Record<string, number> } | undefined;

/** PostHog's get_available_timezones_with_offsets: every time zone with its UTC offset now, in hours. */
function availableTimezones(): Record<string, number> {
  if (timezones && Date.now() - timezones.at < 3_600_000) return timezones.offsets;
  const offsets: Record<string, number> = {};
  for (const zone of Intl.supportedValuesOf('timeZone')) {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value;
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
    offsets[zone] = match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) + Number(match[3]) / 60) : 0;
  }
  timezones = { at: Date.now(), offsets };
  return offsets;
}

export type AppContext = Record<string, unknown> & { current_user: Record<string, unknown> | null; anonymous: boolean };

/** The head PostHog's head.html renders (posthog/templates/head.html), with Burrow's context and no self-capture. */
function head(context: AppContext, jsUrl: string): string {
  return `<title>PostHog</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta charset="utf-8">
<link rel="icon" type="image/png" sizes="32x32" href="/static/icons/favicon-32x32.png?v=2023-07-07">
<link rel="icon" type="image/png" sizes="16x16" href="/static/icons/favicon-16x16.png?v=2023-07-07">
<link rel="shortcut icon" href="/static/icons/favicon.ico?v=2023-07-07">
<link rel="manifest" href="/static/site.webmanifest?v=2023-07-07">
<meta name="application-name" content="PostHog">
<script id="posthog-app-user-preload">
    window.POSTHOG_APP_CONTEXT = JSON.parse("${escapeJs(JSON.stringify(context))}");
    window.JS_URL = "${escapeJs(jsUrl)}";
    window.JS_CAPTURE_TIME_TO_SEE_DATA = false;
    window.JS_KEA_VERBOSE_LOGGING = false;
    window.APP_STATE_LOGGING_SAMPLE_RATE = 0;
</script>
`;
}

/** What PostHog's Django template adds in DEBUG to load the app from the Vite dev server (get_context_for_template). */
function devServerScripts(url: string): string {
  const at = escapeJs(url);
  return `<script type="module">
    import RefreshRuntime from "${at}/@react-refresh"
    RefreshRuntime.injectIntoGlobalHook(window)
    window.$RefreshReg$ = () => {}
    window.$RefreshSig$ = () => (type) => type
    window.__vite_plugin_react_preamble_installed__ = true
</script>
<script type="module" src="${at}/@vite/client"></script>
<script type="module" src="${at}/src/index.tsx"></script>
`;
}

export function createWebappService({ config, auth, users, projects, ping, countUsers, version }: WebappServiceDeps) {
  const frontend = config.posthogFrontend;

  async function preflight(actor: Actor | null, origin: string): Promise<Preflight> {
    const [db, userCount] = await Promise.all([ping().then(() => true, () => false), countUsers().catch(() => 0)]);
    const base: Preflight = {
      django: true,
      redis: true,
      plugins: true,
      celery: true,
      clickhouse: true,
      kafka: true,
      db,
      initiated: userCount > 0,
      cloud: false,
      demo: false,
      realm: 'hobby',
      region: null,
      available_social_auth_providers: {},
      can_create_org: true,
      email_service_available: Boolean(config.email.host),
      slack_service: { available: true, client_id: null },
      data_warehouse_integrations: { hubspot: { client_id: null }, salesforce: { client_id: null } },
      object_storage: true,
      public_egress_ip_addresses: [],
      is_debug: false,
    };
    if (!actor) return base;
    return {
      ...base,
      available_timezones: availableTimezones(),
      opt_out_capture: false,
      licensed_users_available: null,
      openai_available: Boolean(config.llm.baseUrl),
      site_url: config.siteUrl ?? origin,
      instance_preferences: { debug_queries: false, disable_paid_fs: false },
      buffer_conversion_seconds: 60,
    };
  }

  /**
   * Moves the user to the project a /project/<id>/ page names, when it is another one they belong to (PostHog's
   * AutoProjectMiddleware): the actor as it is after the move, and the team it left.
   */
  async function switchTeam(actor: Actor, pathname: string): Promise<{ actor: Actor; switchedTeam: number | null }> {
    const named = PROJECT_PATH.exec(pathname)?.[1];
    const current = actor.user.currentTeamId;
    if (named === undefined || current === null || Number(named) === current) return { actor, switchedTeam: null };
    try {
      await auth.resolveTeam(actor, named);
    } catch (error) {
      if (error instanceof NotFoundError) return { actor, switchedTeam: null };
      throw error;
    }
    const moved = await users.update(actor, '@me', { set_current_team: named });
    return { actor: { ...actor, user: { ...actor.user, currentTeamId: Number(named), currentOrganizationId: moved.organization?.id ?? actor.user.currentOrganizationId } }, switchedTeam: current };
  }

  /** posthog/utils.py get_context_for_template's posthog_app_context, for the signed-in user or an anonymous visitor. */
  async function appContext(caller: Actor | null, pathname: string, origin: string): Promise<AppContext> {
    const { actor, switchedTeam } = caller ? await switchTeam(caller, pathname) : { actor: null, switchedTeam: null };
    const context: AppContext = {
      current_user: null,
      current_project: null,
      current_team: null,
      preflight: await preflight(actor, origin),
      default_event_name: '$pageview',
      switched_team: switchedTeam,
      suggested_users_with_access: null,
      commit_sha: version,
      livestream_host: '',
      persisted_feature_flags: [],
      anonymous: actor === null,
    };
    if (!actor) return context;
    const user = await users.retrieve(actor, '@me');
    context.current_user = user as unknown as Record<string, unknown>;
    const team = await auth.resolveTeam(actor, '@current').catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    if (team) {
      const project = projects.retrieve(team);
      context.current_team = project;
      context.current_project = project;
      context.frontend_apps = {};
    }
    return context;
  }

  /** The HTML shell: the operator's index.html rendered as Django renders it, or a page that loads the dev server's app. */
  async function shell(context: AppContext): Promise<string> {
    if (!frontend) throw new NotFoundError('Endpoint not found.');
    const user = context.current_user;
    const bootTheme = user && typeof user.theme_mode === 'string' && ['dark', 'system'].includes(user.theme_mode) ? user.theme_mode : 'light';
    if (frontend.kind === 'url') {
      return `<!doctype html>
<html lang="en" data-boot-theme="${bootTheme}">
<head>
${head(context, frontend.url)}${devServerScripts(frontend.url)}</head>
<body>
<div id="root"></div>
</body>
</html>
`;
    }
    const source = await readFile(path.join(frontend.dir, 'index.html'), 'utf8');
    const includes = { 'head.html': head(context, ''), 'overlays.html': '' };
    const vars = { js_url: '', request: { csp_nonce: '' }, git_rev: version, region: null, debug: false, boot_theme: bootTheme, preload_js_urls: [] };
    const html = renderTemplate(source, { vars, includes });
    if (/\{%\s*include\s+["']head\.html["']\s*%\}/.test(source)) return html;
    // A plain index.html: the context goes first in <head>, before any of the app's scripts.
    const opening = /<head(\s[^>]*)?>/i.exec(html);
    const at = opening ? opening.index + opening[0].length : 0;
    return `${html.slice(0, at)}\n${head(context, '')}${html.slice(at)}`;
  }

  return {
    frontend,
    sessionActor: (token: string | null) => (token ? auth.authenticateSession(token) : Promise.resolve(null)),
    preflight,
    appContext,
    shell,
    /** Whether an anonymous visitor may open the page, or is sent to /login first (PostHog's login_required). */
    isPublicPage: (pathname: string) => UNAUTHENTICATED.test(pathname),
  };
}

export type WebappService = ReturnType<typeof createWebappService>;
