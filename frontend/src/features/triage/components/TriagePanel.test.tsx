import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useTicket } from '@/lib/api/tickets';
import type { Ticket, TicketDetail } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import {
  admin,
  agent,
  aiDraft,
  run,
  runDetail,
  steps,
  ticket,
  triagedTicket,
} from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { TriagePanel } from './TriagePanel';

const RUN_ID = run('queued').id;

/** Renders the panel the way the ticket page does: fed by the ticket query. */
function Harness() {
  const detail = useTicket(ticket.id);
  return detail.data ? <TriagePanel detail={detail.data} users={[admin, agent]} /> : null;
}

function renderPanel() {
  return renderWithApp(<Harness />, { route: `/tickets/${ticket.id}` });
}

function triagedDetail(current: Ticket = triagedTicket): TicketDetail {
  return {
    ticket: current,
    replies: [aiDraft],
    latest_run: { id: RUN_ID, status: 'succeeded' },
    attachments: [],
  };
}

/** A server whose triaged ticket can be patched, remembering the current state. */
function triagedServer() {
  let current: Ticket = { ...triagedTicket };
  let draft = { ...aiDraft };
  return mockApi({
    'GET /api/tickets/:id': () => json({ ...triagedDetail(current), replies: [draft] }),
    'GET /api/workflows/runs/:id': () => json(runDetail('succeeded')),
    'PATCH /api/tickets/:id': (request) => {
      current = { ...current, ...(request.body as Partial<Ticket>) };
      return json(current);
    },
    'PATCH /api/tickets/:id/replies/:reply_id': (request) => {
      draft = {
        ...draft,
        body: (request.body as { body: string }).body,
        updated_at: '2026-11-25T10:09:00Z',
      };
      return json(draft);
    },
    'POST /api/tickets/:id/replies': (request) =>
      json(
        {
          ...aiDraft,
          id: 'sent-1',
          author_type: 'human',
          author_id: admin.id,
          draft: false,
          sent_at: '2026-11-25T10:10:00Z',
          body: (request.body as { body: string }).body,
        },
        201,
      ),
  });
}

describe('TriagePanel', () => {
  it('runs triage asynchronously and shows steps as they complete, then the suggestions', async () => {
    let polls = 0;
    let finished = false;
    const api = mockApi({
      'GET /api/tickets/:id': () =>
        json(finished ? triagedDetail() : { ticket, replies: [], latest_run: null }),
      'POST /api/tickets/:id/workflows/triage': () => json({ workflow_run: run('queued') }, 202),
      'GET /api/workflows/runs/:id': () => {
        polls += 1;
        if (polls === 1) return json(runDetail('running', steps.slice(0, 2)));
        finished = true;
        return json(runDetail('succeeded'));
      },
    });
    const { user } = renderPanel();

    await user.click(await screen.findByRole('button', { name: 'Run AI Triage' }));
    expect(
      api.find('POST', `/api/tickets/${ticket.id}/workflows/triage`)[0]?.query.get('async'),
    ).toBe('true');

    // While running: the first two steps are done, the third is in progress.
    expect(await screen.findByText('Triage in progress…')).toBeInTheDocument();
    const progress = screen.getByRole('list', { name: 'Triage progress' });
    expect(within(progress).getByTestId('step-classification')).toHaveAttribute(
      'data-state',
      'done',
    );
    expect(within(progress).getByTestId('step-priority')).toHaveAttribute('data-state', 'done');
    expect(within(progress).getByTestId('step-assignee_suggestion')).toHaveAttribute(
      'data-state',
      'in progress',
    );
    expect(within(progress).getByTestId('step-persist')).toHaveAttribute('data-state', 'waiting');

    // Finished: suggestions and the draft appear.
    expect(
      await screen.findByLabelText('AI suggested category: Billing', {}, { timeout: 4000 }),
    ).toBeInTheDocument();
    expect(screen.getByLabelText('AI suggested priority: High')).toBeInTheDocument();
    expect(screen.getByLabelText('AI suggested assignee: Ben Agent')).toBeInTheDocument();
    expect(await screen.findByLabelText(/AI draft reply/)).toHaveValue(aiDraft.body);
    expect(
      screen.getByText("You're responsible for final approval of AI replies."),
    ).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /View Workflow History/ })).toHaveAttribute(
      'href',
      `/tickets/${ticket.id}/workflows`,
    );
  });

  it('shows the reasoning for a suggestion on demand', async () => {
    triagedServer();
    const { user } = renderPanel();
    const priority = await screen.findByTestId('suggestion-priority');
    const why = within(priority).getByRole('button', { name: 'Why?' });
    expect(why).toHaveAttribute('aria-expanded', 'false');
    await user.click(why);
    expect(within(priority).getByRole('button', { name: 'Hide reasoning' })).toHaveAttribute(
      'aria-expanded',
      'true',
    );
    expect(within(priority).getByText('Money taken twice: customer impact is high.')).toBeVisible();
  });

  it('overrides the suggested priority with one click', async () => {
    const api = triagedServer();
    const { user } = renderPanel();
    const priority = await screen.findByTestId('suggestion-priority');
    expect(within(priority).queryByText('Overridden')).not.toBeInTheDocument();

    await user.click(within(priority).getByRole('radio', { name: 'Urgent' }));

    await waitFor(() =>
      expect(api.find('PATCH', `/api/tickets/${ticket.id}`)[0]?.body).toEqual({
        priority: 'urgent',
      }),
    );
    expect(await within(priority).findByText('Overridden')).toBeInTheDocument();
    expect(within(priority).getByRole('radio', { name: 'Urgent' })).toBeChecked();
  });

  it('shows the guardrail flags on the draft', async () => {
    triagedServer();
    renderPanel();
    const flags = await screen.findByTestId('guardrail-flags');
    expect(within(flags).getByText('Refund commitment')).toBeInTheDocument();
    expect(
      within(flags).getByText('The draft may promise a refund or credit.'),
    ).toBeInTheDocument();
  });

  it('saves the edited draft without sending it', async () => {
    const api = triagedServer();
    const { user } = renderPanel();
    const box = await screen.findByLabelText(/AI draft reply/);
    await user.clear(box);
    await user.type(box, 'Hi Carla, we have refunded the duplicate charge.');
    await user.click(screen.getByRole('button', { name: 'Save Draft' }));

    expect(await screen.findByText('Draft saved')).toBeInTheDocument();
    // The refreshed ticket carries the saved draft; the editor keeps the text and the message.
    await waitFor(() =>
      expect(api.find('GET', `/api/tickets/${ticket.id}`).length).toBeGreaterThan(1),
    );
    expect(screen.getByText('Draft saved')).toBeInTheDocument();
    expect(screen.getByLabelText(/AI draft reply/)).toHaveValue(
      'Hi Carla, we have refunded the duplicate charge.',
    );
    expect(api.find('PATCH', `/api/tickets/${ticket.id}/replies/${aiDraft.id}`)[0]?.body).toEqual({
      body: 'Hi Carla, we have refunded the duplicate charge.',
    });
    expect(api.find('POST', `/api/tickets/${ticket.id}/replies`)).toHaveLength(0);
  });

  it('sends the edited draft and marks the ticket replied', async () => {
    const api = triagedServer();
    const { user } = renderPanel();
    const box = await screen.findByLabelText(/AI draft reply/);
    await user.type(box, ' Thanks for your patience.');
    await user.click(screen.getByRole('button', { name: 'Save & Mark Replied' }));

    await waitFor(() =>
      expect(api.find('POST', `/api/tickets/${ticket.id}/replies`)[0]?.body).toEqual({
        body: `${aiDraft.body} Thanks for your patience.`,
        status: 'replied',
        draft_id: aiDraft.id,
      }),
    );
  });

  it('will not send an empty draft', async () => {
    const api = triagedServer();
    const { user } = renderPanel();
    await user.clear(await screen.findByLabelText(/AI draft reply/));
    await user.click(screen.getByRole('button', { name: 'Save & Mark Replied' }));
    expect(await screen.findByText('Reply is required')).toBeInTheDocument();
    expect(api.find('POST', `/api/tickets/${ticket.id}/replies`)).toHaveLength(0);
  });

  it('shows a failed run with its error and retries', async () => {
    let started = 0;
    const api = mockApi({
      'GET /api/tickets/:id': () =>
        json({ ticket, replies: [], latest_run: { id: RUN_ID, status: 'failed' } }),
      'GET /api/workflows/runs/:id': (request) =>
        request.path.endsWith(RUN_ID)
          ? json(
              runDetail('failed', steps.slice(0, 1), {
                error_message: 'priority step: model answered "extreme", not a priority',
              }),
            )
          : json(runDetail('running', [], { id: request.path.split('/').pop() })),
      'POST /api/tickets/:id/workflows/triage': () => {
        started += 1;
        return json(
          { workflow_run: run('queued', { id: '0193a000-0000-7000-8000-00000000e002' }) },
          202,
        );
      },
    });
    const { user } = renderPanel();

    const failure = await screen.findByTestId('triage-failed');
    expect(failure).toHaveTextContent('priority step: model answered "extreme", not a priority');
    expect(failure).toHaveTextContent('The ticket was left unchanged.');
    expect(screen.getByTestId('step-classification')).toHaveAttribute('data-state', 'done');
    expect(screen.queryByLabelText(/AI draft reply/)).not.toBeInTheDocument();

    await user.click(within(failure).getByRole('button', { name: 'Retry triage' }));
    await waitFor(() => expect(started).toBe(1));
    expect(await screen.findByText('Triage in progress…')).toBeInTheDocument();
    expect(
      api.find('GET', '/api/workflows/runs/0193a000-0000-7000-8000-00000000e002').length,
    ).toBeGreaterThan(0);
  });

  it('follows the run already in progress when the API says one is active', async () => {
    mockApi({
      'GET /api/tickets/:id': () => json({ ticket, replies: [], latest_run: null }),
      'POST /api/tickets/:id/workflows/triage': () =>
        apiError(409, 'workflow_run_active', 'A triage run is already active', undefined, {
          workflow_run_id: RUN_ID,
        }),
      'GET /api/workflows/runs/:id': () => json(runDetail('running', steps.slice(0, 1))),
    });
    const { user } = renderPanel();
    await user.click(await screen.findByRole('button', { name: 'Run AI Triage' }));
    expect(await screen.findByText('Triage in progress…')).toBeInTheDocument();
    expect(screen.queryByText('Could not start triage')).not.toBeInTheDocument();
  });

  it('shows why triage could not start', async () => {
    mockApi({
      'GET /api/tickets/:id': () => json({ ticket, replies: [], latest_run: null }),
      'POST /api/tickets/:id/workflows/triage': () =>
        apiError(404, 'ticket_not_found', 'Ticket not found'),
    });
    const { user } = renderPanel();
    await user.click(await screen.findByRole('button', { name: 'Run AI Triage' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Ticket not found');
  });

  it('asks before a new run replaces a draft with unsaved edits, and runs only when confirmed', async () => {
    let started = 0;
    mockApi({
      'GET /api/tickets/:id': () => json(triagedDetail()),
      'GET /api/workflows/runs/:id': () => json(runDetail('succeeded')),
      'POST /api/tickets/:id/workflows/triage': () => {
        started += 1;
        return json({ workflow_run: run('queued') }, 202);
      },
    });
    const { user } = renderPanel();
    const box = await screen.findByLabelText(/AI draft reply/);
    await user.type(box, ' Thanks for your patience.');
    await user.click(screen.getByRole('button', { name: 'Run AI Triage again' }));
    const dialog = await screen.findByRole('dialog', { name: 'Replace your edited draft?' });
    await user.click(within(dialog).getByRole('button', { name: 'Keep my draft' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(started).toBe(0);
    expect(screen.getByLabelText(/AI draft reply/)).toHaveValue(
      `${aiDraft.body} Thanks for your patience.`,
    );

    await user.click(screen.getByRole('button', { name: 'Run AI Triage again' }));
    await user.click(
      within(await screen.findByRole('dialog')).getByRole('button', {
        name: 'Run again and replace it',
      }),
    );
    await waitFor(() => expect(started).toBe(1));
  });

  it('runs again without asking when the draft is untouched', async () => {
    let started = 0;
    mockApi({
      'GET /api/tickets/:id': () => json(triagedDetail()),
      'GET /api/workflows/runs/:id': () => json(runDetail('succeeded')),
      'POST /api/tickets/:id/workflows/triage': () => {
        started += 1;
        return json({ workflow_run: run('queued') }, 202);
      },
    });
    const { user } = renderPanel();
    await screen.findByLabelText(/AI draft reply/);
    await user.click(screen.getByRole('button', { name: 'Run AI Triage again' }));
    await waitFor(() => expect(started).toBe(1));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
