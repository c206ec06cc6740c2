import type { ProjectSettings } from '../identity/index.js';

/**
 * The configuration posthog-js loads from /array/<token>/config (and reads from /flags and /decide answers), built
 * from the project's settings as PostHog's RemoteConfig.build_config builds it, with its camelCase keys and order.
 * Session recording stays off until Burrow stores recordings: posthog-js would otherwise send /s/ batches that
 * nothing keeps.
 */
export function remoteConfig(token: string, settings: ProjectSettings): Record<string, unknown> {
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
    sessionRecording: false,
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
