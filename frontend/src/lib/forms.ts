//! Puts the API's field errors onto a Mantine form's fields.
import type { UseFormReturnType } from '@mantine/form';
import { fieldErrors } from './api/errors';

/**
 * Sets field errors from an API error on the form and answers whether any matched a field, so the
 * caller can show the message elsewhere when none did. `aliases` maps API field names to form
 * field names where they differ.
 */
export function applyFieldErrors<T>(
  form: UseFormReturnType<T>,
  error: unknown,
  aliases: Record<string, string> = {},
): boolean {
  const fields = fieldErrors(error);
  const values = form.getValues() as Record<string, unknown>;
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(fields)) {
    const name = aliases[field] ?? field;
    if (name in values) errors[name] = message;
  }
  if (Object.keys(errors).length === 0) return false;
  form.setErrors(errors);
  return true;
}
