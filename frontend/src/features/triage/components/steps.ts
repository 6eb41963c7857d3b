//! Reading triage steps: labels, suggestions and short summaries of their snapshots.
import { label } from '@/lib/api/enums';
import { STEP_CATALOG } from '@/lib/api/steps.gen';
import type { StepType, TeamMember, WorkflowStep } from '@/lib/api/types';
import { truncate } from '@/lib/format';

/** Steps in pipeline order, from the catalogue generated out of the OpenAPI document (the
 * server's domain describes every step; `npm run gen:api` writes `steps.gen.ts`). */
export const STEP_ORDER: readonly StepType[] = STEP_CATALOG.map((step) => step.type);

const STEP_INFO = new Map(STEP_CATALOG.map((step) => [step.type, step]));

/** A step's label (the raw value for a step this build of the UI does not know yet). */
export function stepLabel(step: StepType): string {
  return STEP_INFO.get(step)?.label ?? step;
}

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
};

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value : null;
}

export function stepsByType(
  steps: readonly WorkflowStep[],
): Partial<Record<StepType, WorkflowStep>> {
  const map: Partial<Record<StepType, WorkflowStep>> = {};
  // The last attempt of a step type wins.
  for (const step of steps) map[step.step_type] = step;
  return map;
}

/** Steps in pipeline order (some run concurrently); repeats of a step by time. */
export function sortSteps(steps: readonly WorkflowStep[]): WorkflowStep[] {
  return [...steps].sort(
    (a, b) =>
      STEP_ORDER.indexOf(a.step_type) - STEP_ORDER.indexOf(b.step_type) ||
      a.created_at.localeCompare(b.created_at),
  );
}

export interface Suggestions {
  category: { value: string | null; reason: string | null } | null;
  priority: { value: string | null; reason: string | null } | null;
  assignee: { value: string | null; reason: string | null } | null;
  draft: { body: string | null; flags: string[] } | null;
}

export function suggestionsFrom(steps: readonly WorkflowStep[]): Suggestions {
  const by = stepsByType(steps);
  const out = (step: WorkflowStep | undefined) => asObject(step?.output_snapshot);
  const c = by.classification?.succeeded ? out(by.classification) : null;
  const p = by.priority?.succeeded ? out(by.priority) : null;
  const a = by.assignee_suggestion?.succeeded ? out(by.assignee_suggestion) : null;
  const r = by.reply_draft;
  return {
    category: c ? { value: str(c.category), reason: str(c.reason) } : null,
    priority: p ? { value: str(p.priority), reason: str(p.reason) } : null,
    assignee: a ? { value: str(a.assignee_user_id), reason: str(a.reason) } : null,
    draft: r
      ? { body: str(out(r).reply_body), flags: [...new Set(r.guardrail_flags ?? [])] }
      : null,
  };
}

/** Users listed in a step's input (the assignee step sends the active users), for names. */
export function usersFromSnapshots(
  steps: readonly WorkflowStep[],
): Pick<TeamMember, 'id' | 'name'>[] {
  const found = new Map<string, string>();
  const visit = (value: unknown, depth: number) => {
    if (depth > 4 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item) => visit(item, depth + 1));
      return;
    }
    const obj = value as Json;
    const id = str(obj.id);
    const name = str(obj.name);
    if (id && name) found.set(id, name);
    Object.values(obj).forEach((item) => visit(item, depth + 1));
  };
  steps
    .filter((s) => s.step_type === 'assignee_suggestion')
    .forEach((s) => visit(s.input_snapshot, 0));
  return [...found].map(([id, name]) => ({ id, name }));
}

export function nameOf(
  users: readonly Pick<TeamMember, 'id' | 'name'>[],
  id: string | null | undefined,
): string {
  if (!id) return 'No one (left unassigned)';
  return users.find((user) => user.id === id)?.name ?? 'Unknown user';
}

/** A one-line description of what a step was given. */
export function inputSummary(step: WorkflowStep): string {
  const input = asObject(step.input_snapshot);
  const messages = Array.isArray(input.messages) ? input.messages : null;
  const users = step.step_type === 'assignee_suggestion' ? usersFromSnapshots([step]).length : 0;
  const parts = [
    users
      ? `Ticket text and ${users} active user${users === 1 ? '' : 's'} with their open load`
      : (STEP_INFO.get(step.step_type)?.input ?? 'Not described'),
  ];
  if (messages) parts.push(`${messages.length} prompt message${messages.length === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** A one-line description of what a step produced. */
export function outputSummary(
  step: WorkflowStep,
  users: readonly Pick<TeamMember, 'id' | 'name'>[],
): string {
  if (!step.succeeded) return step.error_message ?? 'Step failed';
  const output = asObject(step.output_snapshot);
  switch (step.step_type) {
    case 'classification':
      return `Category: ${label(str(output.category))}`;
    case 'priority':
      return `Priority: ${label(str(output.priority))}`;
    case 'assignee_suggestion':
      return `Assignee: ${nameOf(users, str(output.assignee_user_id))}`;
    case 'reply_draft': {
      const body = str(output.reply_body);
      return body ? `Reply: “${truncate(body, 140)}”` : 'No reply drafted';
    }
    case 'persist':
      return 'Ticket updated and AI draft saved';
    default:
      return unknownStep(step.step_type);
  }
}

/** Makes the summaries' switches exhaustive: a new `StepType` without a case is a type error. */
function unknownStep(step: never): string {
  return String(step);
}

export function reasonOf(step: WorkflowStep): string | null {
  return str(asObject(step.output_snapshot).reason);
}
