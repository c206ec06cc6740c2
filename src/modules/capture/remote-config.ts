import type { ProjectSettings } from '../identity/index.js';

/** Who asks for the config: recording is offered only to the project's authorized domains (recording_domains). */
export interface ConfigRequester {
  origin: string | undefined;
  referer: string | undefined;
  userAgent: string | undefined;
}

const hostOf = (url: string | undefined): string | null => /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/:?#]+)/i.exec(url ?? '')?.[1]?.toLowerCase() ?? null;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** PostHog's hostname_in_allowed_url_list: host names compared, `*` matching anything. */
function hostAllowed(allowed: string[], host: string | null): boolean {
  if (host === null) return false;
  return allowed.some((url) => {
    const permitted = hostOf(url);
    if (permitted === null) return false;
    if (!permitted.includes('*')) return permitted === host;
    return new RegExp(`^${escapeRegExp(permitted).replace(/\\\*/g, '(.*)')}$`).test(host);
  });
}

const MOBILE_SDKS = ['posthog-android', 'posthog-ios', 'posthog-react-native', 'posthog-flutter'];

/** PostHog's on_permitted_recording_domain: no list means everywhere; mobile SDKs are always let through. */
function recordingPermitted(settings: ProjectSettings, requester: ConfigRequester): boolean {
  const domains = settings.recording_domains ?? [];
  if (domains.length === 0) return true;
  if (hostAllowed(domains, hostOf(requester.origin)) || hostAllowed(domains, hostOf(requester.referer))) return true;
  return MOBILE_SDKS.some((sdk) => requester.userAgent?.includes(sdk));
}

function linkedFlag(config: Record<string, unknown> | null): unknown {
  if (config === null || typeof config.key !== 'string') return null;
  return config.variant !== undefined && config.variant !== null ? { flag: config.key, variant: config.variant } : config.key;
}

/** The sessionRecording entry: false unless the project records and the requester is on an authorized domain. */
function sessionRecording(settings: ProjectSettings, requester: ConfigRequester): Record<string, unknown> | false {
  if (!settings.session_recording_opt_in || !recordingPermitted(settings, requester)) return false;
  const sampleRate = settings.session_recording_sample_rate || null;
  const recording: Record<string, unknown> = {
    endpoint: '/s/',
    consoleLogRecordingEnabled: settings.capture_console_log_opt_in === true,
    recorderVersion: 'v2',
    sampleRate: sampleRate === '1.00' ? null : sampleRate,
    minimumDurationMilliseconds: settings.session_recording_minimum_duration_milliseconds || null,
    linkedFlag: linkedFlag(settings.session_recording_linked_flag),
    networkPayloadCapture: settings.session_recording_network_payload_capture_config || null,
    masking: null,
    urlTriggers: [],
    urlBlocklist: [],
    eventTriggers: [],
    triggerMatchType: null,
    scriptConfig: null,
  };
  const replay = settings.session_replay_config;
  if (replay !== null && typeof replay === 'object') {
    const recordCanvas = replay.record_canvas === true;
    Object.assign(recording, { recordCanvas, canvasFps: recordCanvas ? 3 : null, canvasQuality: recordCanvas ? '0.4' : null });
  }
  return recording;
}

/**
 * The configuration posthog-js loads from /array/<token>/config (and reads from /flags and /decide answers), built
 * from the project's settings as PostHog's RemoteConfig.build_config builds it, with its camelCase keys and order.
 * Over its recordings quota, a project is told not to record (`quotaLimited`), as PostHog does.
 */
export function remoteConfig(token: string, settings: ProjectSettings, requester: ConfigRequester, recordingsQuotaLimited: boolean): Record<string, unknown> {
  const networkTiming = settings.capture_performance_opt_in === true;
  const webVitals = settings.autocapture_web_vitals_opt_in === true;
  return {
    token,
    supportedCompression: ['gzip', 'gzip-js'],
    hasFeatureFlags: false,
    captureDeadClicks: settings.capture_dead_clicks === true,
    capturePerformance: networkTiming || webVitals ? { network_timing: networkTiming, web_vitals: webVitals, web_vitals_allowed_metrics: null } : false,
    autocapture_opt_out: settings.autocapture_opt_out === true,
    autocaptureExceptions: settings.autocapture_exceptions_opt_in === true,
    analytics: { endpoint: '/i/v0/e/' },
    elementsChainAsString: true,
    errorTracking: { autocaptureExceptions: settings.autocapture_exceptions_opt_in === true, suppressionRules: [] },
    sessionRecording: recordingsQuotaLimited ? false : sessionRecording(settings, requester),
    ...(recordingsQuotaLimited && { quotaLimited: ['recordings'] }),
    heatmaps: settings.heatmaps_opt_in === true,
    surveys: false,
    defaultIdentifiedOnly: true,
  };
}

/** The /array/<token>/config answer: the config and the site apps Burrow has none of. */
export const remoteConfigJson = (config: Record<string, unknown>) => ({ ...config, siteApps: [] });

/** The /array/<token>/config.js answer, character for character as PostHog writes it (Python's json.dumps inside). */
export function remoteConfigScript(token: string, config: Record<string, unknown>): string {
  return [
    '(function() {',
    '  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};',
    `  window._POSTHOG_REMOTE_CONFIG['${token}'] = {`,
    `    config: ${pythonJson(config)},`,
    '    siteApps: []',
    '  }',
    '})();',
  ].join('\n');
}

/** json.dumps with Python's defaults: ", " and ": " separators, non-ASCII escaped. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return JSON.stringify(value ?? null);
}

/** What /flags (v2) and the older /decide add around the config: no flag is evaluated, so every map is empty. */
export function flagsAnswer(config: Record<string, unknown>, requestId: string): Record<string, unknown> {
  const { token: _token, hasFeatureFlags: _hasFeatureFlags, ...rest } = config;
  return {
    ...rest,
    config: { enable_collect_everything: true },
    toolbarParams: {},
    isAuthenticated: false,
    siteApps: [],
    flags: {},
    featureFlags: {},
    featureFlagPayloads: {},
    errorsWhileComputingFlags: false,
    requestId,
  };
}
