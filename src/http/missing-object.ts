import { z } from 'zod';

/** Python's type name of a JSON value, as DRF prints it. */
const pythonType = (value: unknown) =>
  typeof value === 'string' ? 'str' : typeof value === 'boolean' ? 'bool' : Array.isArray(value) ? 'list' : value !== null && typeof value === 'object' ? 'dict' : 'float';

/**
 * DRF's PrimaryKeyRelatedField for objects Burrow does not have (dashboards, insights, integrations): a pk is
 * "does_not_exist", anything that is not a pk "incorrect_type"; null and absent pass.
 */
export const missingObject = (description: string) =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === null || value === undefined) return;
      const isPk = (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value));
      if (isPk) ctx.addIssue({ code: 'custom', message: `Invalid pk "${String(value).trim()}" - object does not exist.`, params: { code: 'does_not_exist' } });
      else ctx.addIssue({ code: 'custom', message: `Incorrect type. Expected pk value, received ${pythonType(value)}.`, params: { code: 'incorrect_type' } });
    })
    .optional()
    .meta({ type: 'integer', nullable: true, description });
