import { z } from 'zod';
import { DateTime } from '../../lib/wire.js';

/** PostHog's token_urlsafe(22): 30 URL-safe characters. */
export const ACCESS_TOKEN_BYTES = 22;
export const GENERATED_PASSWORD_BYTES = 12;

export const SharePasswordSchema = z.object({
  id: z.number().int(),
  created_at: DateTime,
  note: z.string().nullable(),
  created_by_email: z.string().nullable(),
  is_active: z.boolean(),
});

/** PostHog's SharingConfigurationSerializer, in its field order (session_recordings.md §10.2); expires_at is never shown. */
export const SharingConfigurationSchema = z
  .object({
    created_at: DateTime.nullable(),
    enabled: z.boolean(),
    access_token: z.string(),
    settings: z.record(z.string(), z.unknown()).nullable(),
    password_required: z.boolean(),
    share_passwords: z.array(SharePasswordSchema),
  })
  .meta({ id: 'SharingConfiguration' });
export type SharingConfiguration = z.infer<typeof SharingConfigurationSchema>;

/** SharingConfigurationSettings: the keys a recording share takes, each of its type (others are dropped). */
export const SETTINGS_SHAPE = {
  whitelabel: z.boolean(),
  theme: z.enum(['light', 'dark', 'system']),
  noHeader: z.boolean(),
  legend: z.boolean(),
  detailed: z.boolean(),
  hideExtraDetails: z.boolean(),
  showInspector: z.boolean(),
} as const;

export const SharingPatchBody = z.looseObject({
  enabled: z.boolean().optional(),
  settings: z.unknown().optional().meta({ description: `An object of ${Object.keys(SETTINGS_SHAPE).join(', ')}; other keys are dropped` }),
  password_required: z.boolean().optional(),
});

export const CreatePasswordBody = z.looseObject({
  raw_password: z.string().min(8).optional().meta({ description: 'At least 8 characters; generated when left out' }),
  note: z.string().max(100).optional(),
});

export const CreatedPasswordSchema = z.object({
  id: z.number().int(),
  password: z.string().meta({ description: 'Shown only in this answer' }),
  note: z.string().nullable(),
  created_at: DateTime,
  created_by_email: z.string().nullable(),
});

export const SharingParams = z.object({ session_id: z.string().max(200) });
export const PasswordParams = SharingParams.extend({ password_id: z.string() });
