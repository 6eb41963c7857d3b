import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useTicket } from '@/lib/api/tickets';
import type { Ticket, WorkflowStep } from '@/lib/api/types';
import { json, mockApi } from '@/test/api';
import { admin, agent, aiDraft, runDetail, steps, ticket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { TriagePanel } from './TriagePanel';

function Harness() {
  const detail = useTicket(ticket.id);
  return detail.data ? <TriagePanel detail={detail.data} users={[admin, agent]} /> : null;
}

/** The fixture run's steps with a persist step that records these decisions. */
function stepsWith(decisions: unknown[]): WorkflowStep[] {
  const persist = steps[steps.length - 1]!;
  return [
    ...steps.slice(0, -1),
    { ...persist, output_snapshot: { ticket_id: ticket.id, trigger: 'auto_apply', decisions } },
  ];
}

const APPLY = [
  {
    field: 'category',
    outcome: 'applied',
    confidence: 0.93,
    threshold: 0.8,
    reason: 'confidence 0.93 ≥ 0.80',
    value: 'billing',
  },
  {
    field: 'priority',
    outcome: 'suggested',
    confidence: 0.62,
    threshold: 0.8,
    reason: 'confidence 0.62 < 0.80',
    value: 'high',
  },
  {
    field: 'assignee',
    outcome: 'kept_human',
    confidence: 0.95,
    threshold: 0.9,
    reason: 'a person set this field before the run finished',
    value: agent.id,
  },
];

function server(trigger: 'auto_apply' | 'manual', start: Ticket) {
  let current = start;
  return mockApi({
    'GET /api/tickets/:id': () =>
      json({
        ticket: current,
        replies: [aiDraft],
        latest_run: { id: runDetail('succeeded').workflow_run.id, status: 'succeeded' },
        attachments: [],
      }),
    'GET /api/workflows/runs/:id': () =>
      json(runDetail('succeeded', stepsWith(APPLY), { trigger })),
    'PATCH /api/tickets/:id': (request) => {
      current = { ...current, ...(request.body as Partial<Ticket>) };
      return json(current);
    },
  });
}

describe('TriagePanel after auto-triage', () => {
  it('says which fields were auto-applied or only suggested, and applies a suggestion in one click', async () => {
    const api = server('auto_apply', {
      ...ticket,
      category: 'billing',
      priority: null,
      assignee_id: admin.id,
    });
    const { user } = renderWithApp(<Harness />, { route: `/tickets/${ticket.id}` });

    const category = await screen.findByTestId('suggestion-category');
    expect(within(category).getByTestId('decision')).toHaveTextContent('Auto-applied');
    expect(within(category).queryByRole('button', { name: 'Apply suggestion' })).toBeNull();

    const priority = screen.getByTestId('suggestion-priority');
    expect(within(priority).getByTestId('decision')).toHaveTextContent(
      'Suggested (confidence 0.62 < 0.80)',
    );
    expect(within(priority).queryByText('Overridden')).toBeNull();

    const assignee = screen.getByTestId('suggestion-assignee');
    expect(within(assignee).getByTestId('decision')).toHaveTextContent('Kept your value');
    expect(within(assignee).getByText('Overridden')).toBeInTheDocument();

    await user.click(within(priority).getByRole('button', { name: 'Apply suggestion' }));
    await waitFor(() =>
      expect(api.find('PATCH', `/api/tickets/${ticket.id}`)[0]?.body).toEqual({
        priority: 'high',
      }),
    );
    await waitFor(() =>
      expect(within(priority).queryByRole('button', { name: 'Apply suggestion' })).toBeNull(),
    );
    expect(within(priority).getByRole('radio', { name: 'High' })).toBeChecked();
  });

  it('shows no auto-triage labels for a run a person started', async () => {
    server('manual', { ...ticket, category: 'billing', priority: 'high', assignee_id: agent.id });
    renderWithApp(<Harness />, { route: `/tickets/${ticket.id}` });
    await screen.findByTestId('suggestion-priority');
    expect(screen.queryByTestId('decision')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Apply suggestion' })).toBeNull();
  });
});
