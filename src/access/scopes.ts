/**
 * PostHog's personal API key scopes: "<object>:<read|write>" or "*".
 * The object list follows posthog/scopes.py (user-grantable objects only), plus persisted_folder, which PostHog's
 * PersistedFolderViewSet and published OpenAPI still use.
 */
export const API_SCOPE_OBJECTS = [
  'action', 'access_control', 'account', 'activity_log', 'alert', 'annotation', 'approvals', 'batch_export',
  'batch_import', 'batch_import_support', 'billing', 'business_knowledge', 'canvas', 'cohort', 'comment',
  'conversation', 'customer_analytics', 'customer_task', 'customer_journey', 'customer_profile_config',
  'data_catalog', 'data_catalog_approval', 'dashboard', 'event_filter', 'dashboard_template', 'dataset',
  'early_access_feature', 'endpoint', 'engineering_analytics', 'error_tracking', 'evaluation', 'element',
  'event_definition', 'experiment', 'experiment_holdout', 'experiment_saved_metric', 'export',
  'external_data_schema', 'external_data_source', 'feature_flag', 'file_system', 'file_system_shortcut', 'group',
  'health_issue', 'heatmap', 'hog_flow', 'hog_function', 'ingestion_warning', 'insight', 'insight_variable',
  'integration', 'legal_document', 'link', 'live_debugger', 'llm_analytics', 'ai_observability_clusters',
  'llm_gateway', 'llm_playground', 'llm_prompt', 'llm_provider_key', 'llm_skill', 'logs', 'loop', 'marketing_analytics',
  'mcp_analytics', 'metrics', 'notebook', 'organization', 'organization_integration', 'organization_member',
  'persisted_folder', 'person', 'plugin', 'product_enablement', 'product_tour', 'project', 'property_definition',
  'query', 'query_performance', 'replay_scanner', 'review_hog', 'revenue_analytics', 'session_recording',
  'session_recording_playlist', 'sharing_configuration', 'signal_scout', 'stamphog', 'streamlit_app', 'subscription',
  'survey', 'tagger', 'ticket', 'task', 'toolbar', 'tracing', 'field_note', 'uploaded_media', 'usage_metric', 'user',
  'user_interview', 'vision_action', 'vision_alert', 'visual_review', 'warehouse_objects', 'warehouse_table',
  'warehouse_view', 'web_analytics', 'webhook', 'wizard_session',
] as const;

export type ScopeObject = (typeof API_SCOPE_OBJECTS)[number];
export type ScopeAction = 'read' | 'write';
export interface RequiredScope {
  object: ScopeObject;
  action: ScopeAction;
}

const OBJECTS = new Set<string>(API_SCOPE_OBJECTS);

export function isValidScope(scope: string): boolean {
  if (scope === '*') return true;
  const [object, action, ...rest] = scope.split(':');
  return rest.length === 0 && object !== undefined && OBJECTS.has(object) && (action === 'read' || action === 'write');
}

/** A null or empty scope list is a legacy key with full access. */
export const isLegacyScopeList = (scopes: readonly string[] | null): boolean => !scopes || scopes.length === 0;

/** Write implies read; "*" allows everything. Returns the scope string that is missing, or null. */
export function missingScope(keyScopes: readonly string[], required: RequiredScope): string | null {
  if (keyScopes.includes('*')) return null;
  const wanted = `${required.object}:${required.action}`;
  if (keyScopes.includes(wanted)) return null;
  if (required.action === 'read' && keyScopes.includes(`${required.object}:write`)) return null;
  return wanted;
}
