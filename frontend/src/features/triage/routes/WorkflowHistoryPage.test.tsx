import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { json, mockApi } from '@/test/api';
import { admin, agent, run, runDetail, step, steps, ticket, triagedTicket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { WorkflowHistoryPage } from './WorkflowHistoryPage';

const older = run('failed', {
  id: '0193a000-0000-7000-8000-00000000e000',
  started_at: '2026-11-25T09:00:00Z',
  finished_at: '2026-11-25T09:00:02Z',
  error_message: 'classification step: provider timed out after 3 attempts',
});
const newest = run('succeeded');

function server() {
  return mockApi({
    'GET /api/tickets/:id': () =>
      json({
        ticket: triagedTicket,
        replies: [],
        latest_run: { id: newest.id, status: 'succeeded' },
      }),
    'GET /api/tickets/:id/workflows': () => json({ items: [newest, older] }),
    'GET /api/team': () => json({ items: [admin, agent] }),
    'GET /api/workflows/runs/:id': (request) =>
      request.path.endsWith(older.id)
        ? json({ workflow_run: older, steps: [] })
        : json(runDetail('succeeded')),
  });
}

function renderHistory(route = `/tickets/${ticket.id}/workflows`) {
  return renderWithApp(<WorkflowHistoryPage />, { route, path: '/tickets/:id/workflows/:runId?' });
}

describe('WorkflowHistoryPage', () => {
  it('opens the newest run and lists every run', async () => {
    server();
    renderHistory();
    expect(await screen.findByRole('heading', { name: 'Workflow history' })).toBeInTheDocument();
    expect(await screen.findByTestId('run-view')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(
      `/tickets/${ticket.id}/workflows/${newest.id}`,
    );
    const runs = screen.getAllByTestId('run-item');
    expect(runs).toHaveLength(2);
    expect(runs[0]).toHaveAttribute('aria-current', 'page');
    expect(runs[1]).toHaveTextContent('Failed');
  });

  it('shows every step in order with input, output, reason, model, latency and tokens', async () => {
    server();
    renderHistory(`/tickets/${ticket.id}/workflows/${newest.id}`);
    const view = await screen.findByTestId('run-view');
    expect(within(view).getByTestId('run-status')).toHaveTextContent('Succeeded');
    expect(view).toHaveTextContent('Started');
    expect(view).toHaveTextContent('Finished');

    const cards = await within(view).findAllByTestId('run-step');
    expect(cards.map((card) => within(card).getByRole('heading').textContent)).toEqual([
      'Classify category',
      'Set priority',
      'Suggest assignee',
      'Draft reply',
      'Save results',
    ]);
    const [classification, priority, assignee, draft] = cards as [
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
    ];
    expect(classification).toHaveTextContent('Category: Billing');
    expect(classification).toHaveTextContent('Mentions a duplicate card charge.');
    expect(classification).toHaveTextContent('Ticket subject and body · 2 prompt messages');
    expect(classification).toHaveTextContent('offline-v1');
    expect(classification).toHaveTextContent('13 ms');
    expect(classification).toHaveTextContent('101 in / 21 out');
    expect(priority).toHaveTextContent('Priority: High');
    expect(assignee).toHaveTextContent('Assignee: Ben Agent');
    expect(assignee).toHaveTextContent('Ticket text and 2 active users with their open load');
    expect(draft).toHaveTextContent('Reply: “Hi Carla, sorry about the double charge.');
    expect(within(draft).getByText('Refund commitment')).toBeInTheDocument();
  });

  it('shows the raw snapshots on demand', async () => {
    server();
    const { user } = renderHistory(`/tickets/${ticket.id}/workflows/${newest.id}`);
    const [first] = await screen.findAllByTestId('run-step');
    expect(within(first!).queryByTestId('raw-output')).not.toBeInTheDocument();
    await user.click(within(first!).getByRole('button', { name: 'Show raw snapshots' }));
    expect(within(first!).getByTestId('raw-output')).toHaveTextContent('"category": "billing"');
    expect(within(first!).getByTestId('raw-input')).toHaveTextContent('You triage tickets.');
  });

  it('shows a failed run with its error', async () => {
    server();
    const { user } = renderHistory(`/tickets/${ticket.id}/workflows/${newest.id}`);
    await screen.findByTestId('run-view');
    await user.click(screen.getAllByTestId('run-item')[1]!);
    expect(
      await screen.findByText('classification step: provider timed out after 3 attempts', {
        selector: '.mantine-Alert-message, .mantine-Alert-message *',
      }),
    ).toBeInTheDocument();
    expect(screen.getByText('No steps recorded yet.')).toBeInTheDocument();
  });

  it('groups a resumed run by attempt instead of listing the first attempt twice', async () => {
    const interrupted = step(
      0,
      'classification',
      { category: 'general', reason: 'Recorded before the worker crashed.' },
      { id: '0193a000-0000-7000-8000-00000000f0a0', created_at: '2026-11-25T10:04:40Z' },
    );
    const resumed = steps.map((s) => ({ ...s, attempt: 2 }));
    mockApi({
      'GET /api/tickets/:id': () =>
        json({
          ticket: triagedTicket,
          replies: [],
          latest_run: { id: newest.id, status: 'succeeded' },
        }),
      'GET /api/tickets/:id/workflows': () => json({ items: [newest] }),
      'GET /api/team': () => json({ items: [admin, agent] }),
      'GET /api/workflows/runs/:id': () =>
        json(runDetail('succeeded', [...resumed, interrupted], { attempts: 2 })),
    });
    renderHistory(`/tickets/${ticket.id}/workflows/${newest.id}`);
    const groups = await screen.findAllByTestId('run-attempt');
    expect(groups.map((g) => within(g).getAllByRole('heading')[0]?.textContent)).toEqual([
      'Attempt 1 — interrupted',
      'Attempt 2',
    ]);
    const [first, second] = groups as [HTMLElement, HTMLElement];
    expect(within(first).getAllByTestId('run-step')).toHaveLength(1);
    expect(first).toHaveTextContent('Recorded before the worker crashed.');
    const resumedCards = within(second).getAllByTestId('run-step');
    expect(resumedCards).toHaveLength(5);
    expect(within(resumedCards[0]!).getByRole('heading').textContent).toBe('Classify category');
    expect(second).not.toHaveTextContent('Recorded before the worker crashed.');
  });

  it('says when triage never ran', async () => {
    mockApi({
      'GET /api/tickets/:id': () => json({ ticket, replies: [], latest_run: null }),
      'GET /api/tickets/:id/workflows': () => json({ items: [] }),
      'GET /api/team': () => json({ items: [admin] }),
    });
    renderHistory();
    expect(await screen.findByText(/AI triage has not run on this ticket yet/)).toBeInTheDocument();
  });
});
