/**
 * The fixed value sets some columns hold. They live apart from the tables so that contracts and services can use them
 * without importing table objects, which only repositories do.
 */

export const MembershipLevel = { member: 1, admin: 8, owner: 15 } as const;
export type MembershipLevelValue = (typeof MembershipLevel)[keyof typeof MembershipLevel];

export const PERSISTED_FOLDER_TYPES = ['home', 'pinned', 'custom_products'] as const;

export const HEATMAP_TYPES = ['screenshot', 'iframe', 'recording'] as const;
export const HEATMAP_STATUSES = ['processing', 'completed', 'failed'] as const;

/**
 * The kinds of point posthog-js reports in `$heatmap_data`, and scrolldepth: how far down a page was scrolled, which
 * ingestion makes of a page view's `$prev_pageview_max_scroll`.
 */
export const HEATMAP_POINT_TYPES = ['click', 'rageclick', 'mousemove', 'deadclick', 'scrolldepth'] as const;
