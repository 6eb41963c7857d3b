//! Client-side rules that match the API's, so most mistakes are caught before a request.

export const LIMITS = {
  subject: 200,
  body: 20_000,
  name: 100,
  email: 254,
  passwordMin: 8,
  passwordMax: 128,
  tenantName: 100,
  policies: 10_000,
} as const;

// Same shape the server accepts: something@something.tld, no spaces.
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Rule = (value: string) => string | null;

export function required(label: string, max: number): Rule {
  return (value) => {
    const trimmed = value.trim();
    if (!trimmed) return `${label} is required`;
    if (trimmed.length > max)
      return `${label} must be at most ${max.toLocaleString('en-US')} characters`;
    return null;
  };
}

export function optionalMax(label: string, max: number): Rule {
  return (value) =>
    value.trim().length > max
      ? `${label} must be at most ${max.toLocaleString('en-US')} characters`
      : null;
}

export const email: Rule = (value) => {
  const trimmed = value.trim();
  if (!trimmed) return 'Email is required';
  if (trimmed.length > LIMITS.email) return `Email must be at most ${LIMITS.email} characters`;
  if (!EMAIL_RE.test(trimmed)) return 'Enter a valid email address';
  return null;
};

export const newPassword: Rule = (value) => {
  if (value.length < LIMITS.passwordMin)
    return `Password must be at least ${LIMITS.passwordMin} characters`;
  if (value.length > LIMITS.passwordMax)
    return `Password must be at most ${LIMITS.passwordMax} characters`;
  return null;
};

export const password: Rule = (value) => (value ? null : 'Password is required');

/** A ticket's customer fields. */
export const customerRules = {
  customer_name: required('Customer name', LIMITS.name),
  customer_email: email,
};
