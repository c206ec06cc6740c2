import type { ScopeObject } from '../../access/scopes.js';

/**
 * The calls PostHog's web app makes on every page (navigation, side panels, the home scene, pickers) for products
 * Burrow does not have. Without an answer the app shows errors and retries, so each of these GET paths answers
 * harmless emptiness in PostHog's shape: an empty page, an empty list or a fixed default object. Only GET is
 * listed: a write to any of these paths still gets 405 or 404, never a pretend success. Each is authenticated and
 * scoped as PostHog's own route (its scope object, read).
 *
 * Paths Burrow serves for real (integrations, exports, subscriptions, the file system, users/@me...) are not here.
 */

export type EmptyAnswer = 'page' | 'list' | { object: Record<string, unknown> };

export interface AllowListed {
  /** Under /api/projects/:project_id/ and /api/environments/:environment_id/ ('team'), or a full path. */
  path: string;
  where: 'team' | 'user' | 'organization';
  scope: ScopeObject;
  answer: EmptyAnswer;
  why: string;
}

export const ALLOW_LIST: readonly AllowListed[] = [
  { where: 'team', path: '/dashboards/', scope: 'dashboard', answer: 'page', why: 'the home scene and the dashboards menu' },
  { where: 'team', path: '/insights/', scope: 'insight', answer: 'page', why: 'recent insights on the home scene' },
  { where: 'team', path: '/notebooks/', scope: 'notebook', answer: 'page', why: 'the notebooks side panel' },
  { where: 'team', path: '/comments/count/', scope: 'comment', answer: { object: { count: 0 } }, why: 'the discussion badge of every scene' },
  { where: 'team', path: '/session_recording_playlists/', scope: 'session_recording_playlist', answer: 'page', why: 'the replay scene’s collections' },
  { where: 'team', path: '/data_color_themes/', scope: 'project', answer: 'list', why: 'chart colours, loaded on start' },
  { where: 'team', path: '/user_product_list/', scope: 'project', answer: 'page', why: 'the products shown in the navigation' },
  { where: 'team', path: '/my_notifications/', scope: 'project', answer: 'page', why: 'the notifications bell' },
  { where: 'team', path: '/annotations/', scope: 'annotation', answer: 'page', why: 'graphs’ annotations' },
  { where: 'team', path: '/actions/', scope: 'action', answer: 'page', why: 'event pickers' },
  { where: 'team', path: '/cohorts/', scope: 'cohort', answer: 'page', why: 'filter pickers' },
  { where: 'team', path: '/event_definitions/', scope: 'event_definition', answer: 'page', why: 'event pickers of the replay and heatmap filters' },
  { where: 'team', path: '/property_definitions/', scope: 'property_definition', answer: 'page', why: 'property pickers of the replay and heatmap filters' },
  { where: 'team', path: '/feature_flags/', scope: 'feature_flag', answer: 'page', why: 'flag pickers' },
  { where: 'team', path: '/surveys/', scope: 'survey', answer: 'page', why: 'the surveys side panel' },
  { where: 'team', path: '/early_access_feature/', scope: 'early_access_feature', answer: 'page', why: 'the feature previews side panel' },
  { where: 'user', path: '/api/users/@me/hedgehog_config/', scope: 'user', answer: { object: {} }, why: 'the hedgehog mode settings (users/@me carries the saved one)' },
  { where: 'user', path: '/api/user_home_settings/@me/', scope: 'user', answer: { object: {} }, why: 'the pinned tabs of the navigation' },
  {
    where: 'user',
    path: '/api/billing/',
    scope: 'billing',
    answer: { object: { available_product_features: [], products: [], custom_limits_usd: {}, has_active_subscription: false, license: null, customer_id: null } },
    why: 'the plan checks of every scene: a self-hosted instance without a license',
  },
  { where: 'organization', path: '/members/', scope: 'organization_member', answer: 'page', why: 'member pickers and the invite button' },
  { where: 'organization', path: '/invites/', scope: 'organization_member', answer: 'page', why: 'pending invites' },
  { where: 'organization', path: '/roles/', scope: 'organization', answer: 'page', why: 'access control pickers' },
];
