//! What each guardrail finding means, for the AI panel and the reply warnings.

export const GUARDRAIL_LABELS: Record<string, { title: string; hint: string }> = {
  pricing_promise: {
    title: 'Pricing promise',
    hint: 'The draft may promise a price or discount.',
  },
  hard_deadline: {
    title: 'Hard deadline',
    hint: 'The draft may commit to a specific date or time.',
  },
  refund_commitment: {
    title: 'Refund commitment',
    hint: 'The draft may promise a refund or credit.',
  },
  forbidden_commitment: {
    title: 'Forbidden commitment',
    hint: 'The text contains a phrase the workspace policies forbid.',
  },
};
