import { describe, expect, it } from 'vitest';

import { STEP_CATALOG } from '@/lib/api/steps.gen';
import type { WorkflowStep } from '@/lib/api/types';

import {
  STEP_ORDER,
  confidenceOf,
  inputSummary,
  sortSteps,
  stepLabel,
  suggestionsFrom,
} from './steps';

function step(over: Partial<WorkflowStep>): WorkflowStep {
  return {
    id: 's1',
    run_id: 'r1',
    step_type: 'classification',
    succeeded: true,
    attempts: 1,
    input_snapshot: {},
    output_snapshot: {},
    error_message: null,
    created_at: '2026-12-01T10:00:00Z',
    ...over,
  } as WorkflowStep;
}

describe('the step catalogue generated from the OpenAPI document', () => {
  it('orders steps as the server does, each step after its prerequisites', () => {
    expect(STEP_ORDER).toEqual(STEP_CATALOG.map((s) => s.type));
    STEP_CATALOG.forEach((info, index) => {
      for (const before of info.prerequisites) {
        expect(STEP_ORDER.indexOf(before)).toBeLessThan(index);
      }
    });
    const shuffled = [...STEP_ORDER].reverse().map((type) => step({ step_type: type }));
    expect(sortSteps(shuffled).map((s) => s.step_type)).toEqual(STEP_ORDER);
  });

  it('labels and describes steps from the catalogue', () => {
    expect(stepLabel('priority')).toBe('Set priority');
    expect(inputSummary(step({ step_type: 'priority' }))).toBe('Ticket text and its category');
    const withPrompt = step({
      step_type: 'reply_draft',
      input_snapshot: { messages: [{}, {}] },
    });
    expect(inputSummary(withPrompt)).toBe(
      'Ticket text, category, priority and the workspace policies · 2 prompt messages',
    );
  });

  it('counts the users an assignee step was given', () => {
    const s = step({
      step_type: 'assignee_suggestion',
      input_snapshot: {
        context: {
          candidates: [
            { id: 'u1', name: 'Bo' },
            { id: 'u2', name: 'Cy' },
          ],
        },
      },
    });
    expect(inputSummary(s)).toBe('Ticket text and 2 active users with their open load');
  });
});

describe('confidence of a suggestion', () => {
  it('is labelled calibrated for the offline engine and self-reported for a language model', () => {
    const offline = step({
      step_type: 'priority',
      provider: 'offline',
      output_snapshot: { priority: 'high', reason: 'Outage', confidence: 0.83 },
    });
    expect(confidenceOf(offline)).toEqual({ value: 0.83, source: 'calibrated' });
    const llm = step({ provider: 'openai', output_snapshot: { category: 'bug', confidence: 1.2 } });
    expect(confidenceOf(llm)).toEqual({ value: 1, source: 'self_reported' });
    expect(confidenceOf(step({ output_snapshot: { category: 'bug' } }))).toBeNull();
    expect(suggestionsFrom([offline]).priority).toEqual({
      value: 'high',
      reason: 'Outage',
      confidence: { value: 0.83, source: 'calibrated' },
    });
  });
});

describe('auto-triage decisions', () => {
  it('reads the persist step decisions and summarises them', async () => {
    const { decisionsFrom, outputSummary } = await import('./steps');
    const { steps: fixtureSteps } = await import('@/test/fixtures');
    const persist = {
      ...fixtureSteps[fixtureSteps.length - 1]!,
      output_snapshot: {
        trigger: 'auto_apply',
        decisions: [
          { field: 'category', outcome: 'applied', confidence: 0.9, threshold: 0.8, reason: 'x' },
          {
            field: 'priority',
            outcome: 'suggested',
            confidence: 0.62,
            threshold: 0.8,
            reason: 'confidence 0.62 < 0.80',
          },
          { field: 'sentiment', outcome: 'applied', reason: 'unknown fields are ignored' },
        ],
      },
    };
    const decided = decisionsFrom(persist);
    expect(Object.keys(decided)).toEqual(['category', 'priority']);
    expect(decided.priority).toEqual({
      outcome: 'suggested',
      confidence: 0.62,
      threshold: 0.8,
      reason: 'confidence 0.62 < 0.80',
    });
    expect(outputSummary(persist, [])).toBe(
      'Auto-applied: category · Suggested only: priority · AI draft saved',
    );
    expect(decisionsFrom(undefined)).toEqual({});
  });
});
