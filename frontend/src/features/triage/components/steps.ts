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

export { GUARDRAIL_LABELS } from '@/lib/guardrails';

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

/**
 * The run's steps by the attempt they belong to, each in step order. A run a worker resumed
 * after a crash starts over: its first attempt's steps are history, not part of the result.
 */
export function stepsByAttempt(
  steps: readonly WorkflowStep[],
): { attempt: number; steps: WorkflowStep[] }[] {
  const groups = new Map<number, WorkflowStep[]>();
  for (const step of steps) {
    const attempt = step.attempt ?? 1;
    groups.set(attempt, [...(groups.get(attempt) ?? []), step]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([attempt, group]) => ({ attempt, steps: sortSteps(group) }));
}

/** A suggested field value, why, and how sure the AI was (0..1, when it said). */
export interface FieldSuggestion {
  value: string | null;
  reason: string | null;
  confidence: Confidence | null;
}

export interface Confidence {
  value: number;
  /** The offline engine's calibrated probability, or a language model's own estimate. */
  source: 'calibrated' | 'self_reported';
}

/** What a run queued on arrival did with one field (the persist step's `decisions`). */
export interface FieldDecision {
  outcome: 'applied' | 'suggested' | 'kept_human';
  confidence: number | null;
  threshold: number | null;
  /** e.g. `confidence 0.62 < 0.80`. */
  reason: string;
}

export type DecisionField = 'category' | 'priority' | 'assignee';

export interface Suggestions {
  category: FieldSuggestion | null;
  priority: FieldSuggestion | null;
  assignee: FieldSuggestion | null;
  draft: { body: string | null; flags: string[] } | null;
  /** Per field, for runs that record decisions (every run since auto-triage). */
  decisions: Partial<Record<DecisionField, FieldDecision>>;
}

const OUTCOMES: readonly FieldDecision['outcome'][] = ['applied', 'suggested', 'kept_human'];

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** How a run queued on arrival left this field, as people read it. */
export function decisionText(decision: FieldDecision): string {
  switch (decision.outcome) {
    case 'applied':
      return 'Auto-applied';
    case 'kept_human':
      return 'Kept your value';
    case 'suggested':
      return `Suggested (${decision.reason})`;
  }
}

/** The per-field decisions a persist step recorded. */
export function decisionsFrom(
  persist: WorkflowStep | undefined,
): Partial<Record<DecisionField, FieldDecision>> {
  const list = asObject(persist?.output_snapshot).decisions;
  const found: Partial<Record<DecisionField, FieldDecision>> = {};
  if (!Array.isArray(list)) return found;
  for (const item of list) {
    const d = asObject(item);
    const field = d.field;
    const outcome = d.outcome as FieldDecision['outcome'];
    if (
      (field === 'category' || field === 'priority' || field === 'assignee') &&
      OUTCOMES.includes(outcome)
    ) {
      found[field] = {
        outcome,
        confidence: num(d.confidence),
        threshold: num(d.threshold),
        reason: str(d.reason) ?? '',
      };
    }
  }
  return found;
}

/** The confidence a step stated, labelled by where it came from. */
export function confidenceOf(step: WorkflowStep | undefined): Confidence | null {
  const value = asObject(step?.output_snapshot).confidence;
  if (!step || typeof value !== 'number' || !Number.isFinite(value)) return null;
  return {
    value: Math.min(1, Math.max(0, value)),
    source: step.provider === 'offline' ? 'calibrated' : 'self_reported',
  };
}

export function suggestionsFrom(steps: readonly WorkflowStep[]): Suggestions {
  const by = stepsByType(steps);
  const out = (step: WorkflowStep | undefined) => asObject(step?.output_snapshot);
  const ok = (step: WorkflowStep | undefined) => (step?.succeeded ? step : undefined);
  const c = ok(by.classification);
  const p = ok(by.priority);
  const a = ok(by.assignee_suggestion);
  const r = by.reply_draft;
  const field = (step: WorkflowStep | undefined, key: string): FieldSuggestion | null =>
    step
      ? {
          value: str(out(step)[key]),
          reason: str(out(step).reason),
          confidence: confidenceOf(step),
        }
      : null;
  return {
    category: field(c, 'category'),
    priority: field(p, 'priority'),
    assignee: field(a, 'assignee_user_id'),
    draft: r
      ? { body: str(out(r).reply_body), flags: [...new Set(r.guardrail_flags ?? [])] }
      : null,
    decisions: decisionsFrom(ok(by.persist)),
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
    case 'persist': {
      const decided = Object.entries(decisionsFrom(step));
      if (output.trigger === 'manual' || output.trigger === undefined || !decided.length) {
        return 'Ticket updated and AI draft saved';
      }
      const named = (outcome: FieldDecision['outcome']) =>
        decided.filter(([, d]) => d.outcome === outcome).map(([field]) => field);
      const parts = [
        named('applied').length ? `Auto-applied: ${named('applied').join(', ')}` : null,
        named('suggested').length ? `Suggested only: ${named('suggested').join(', ')}` : null,
        named('kept_human').length
          ? `Kept people’s values: ${named('kept_human').join(', ')}`
          : null,
      ].filter(Boolean);
      return `${parts.join(' · ')} · AI draft saved`;
    }
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
