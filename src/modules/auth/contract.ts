import { z } from 'zod';
import { Email } from '../../lib/wire.js';
import { RoleAtOrganization, UserBasicSchema } from '../identity/index.js';

export const SignupBody = z.object({
  first_name: z.string().min(1).max(128),
  last_name: z.string().max(128).optional(),
  email: Email,
  password: z.string().max(128),
  organization_name: z.string().max(128).optional(),
  role_at_organization: z.union([RoleAtOrganization, z.literal('')]).optional(),
  referral_source: z.string().max(1000).optional(),
});

export const SignupResponse = UserBasicSchema.extend({ redirect_url: z.string() }).meta({ id: 'SignupResponse' });

export const LoginBody = z.object({
  email: Email,
  password: z.string(),
});

export const SuccessResponse = z.object({ success: z.literal(true) });

export type SignupInput = z.infer<typeof SignupBody>;
export type LoginInput = z.infer<typeof LoginBody>;
