import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Delivery, Reply, Ticket } from '@/lib/api/types';
import { apiError, json, mockApi } from '@/test/api';
import { admin, aiDraft, ticket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { ReplyThread } from './ReplyThread';

function sentReply(id: string, body: string, delivery: Delivery | null): Reply {
  return {
    ...aiDraft,
    id,
    author_type: 'human',
    author_id: admin.id,
    draft: false,
    body,
    sent_at: '2026-11-25T11:00:00Z',
    delivery,
  };
}

const base: Delivery = {
  state: 'queued',
  attempts: 0,
  last_error: null,
  next_attempt_at: '2026-11-25T11:00:00Z',
  sent_at: null,
  note: null,
};

function renderThread(t: Ticket, replies: Reply[]) {
  return renderWithApp(<ReplyThread ticket={t} replies={replies} users={[admin]} />);
}

function message(body: string): HTMLElement {
  const el = screen.getByText(body).closest('[data-testid="message-agent"]');
  if (!(el instanceof HTMLElement)) throw new Error(`no message with ${body}`);
  return el;
}

describe('ReplyThread delivery', () => {
  it('says replies on tickets that did not come by email are recorded, not emailed', () => {
    renderThread({ ...ticket, channel: 'web' }, [sentReply('r1', 'Called the customer.', null)]);
    const m = message('Called the customer.');
    expect(m).toHaveTextContent('Agent reply · recorded');
    expect(within(m).queryByTestId('delivery')).toBeNull();
  });

  it('shows queued, retrying, sent and not-emailed replies on an email ticket', () => {
    renderThread(ticket, [
      sentReply('r1', 'First answer.', { ...base }),
      sentReply('r2', 'Second answer.', {
        ...base,
        attempts: 2,
        last_error: 'the server did not accept the message: 451 4.3.0 Mailbox busy',
        next_attempt_at: '2026-11-25T11:04:00Z',
      }),
      sentReply('r3', 'Third answer.', {
        ...base,
        state: 'sent',
        attempts: 1,
        next_attempt_at: null,
        sent_at: '2026-11-25T11:01:00Z',
      }),
      sentReply('r4', 'Fourth answer.', {
        ...base,
        state: 'not_emailed',
        next_attempt_at: null,
        note: 'not emailed: no mailbox connected',
      }),
    ]);
    expect(message('First answer.')).toHaveTextContent('Agent reply · email');
    expect(within(message('First answer.')).getByTestId('delivery')).toHaveTextContent(
      'Email queued',
    );
    const retrying = within(message('Second answer.')).getByTestId('delivery');
    expect(retrying).toHaveTextContent('Email queued · next try');
    expect(retrying).toHaveTextContent('451 4.3.0 Mailbox busy');
    expect(within(message('Third answer.')).getByTestId('delivery')).toHaveTextContent(
      /Emailed 25 Nov 2026/,
    );
    expect(message('Fourth answer.')).toHaveTextContent('Agent reply · recorded');
    expect(within(message('Fourth answer.')).getByTestId('delivery')).toHaveTextContent(
      'Recorded, not emailed',
    );
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('shows why an email failed and queues it again with Retry', async () => {
    const api = mockApi({
      'POST /api/tickets/:id/replies/:rid/retry-delivery': () => json({ ...base }),
    });
    const { user } = renderThread(ticket, [
      sentReply('r9', 'Your invoice.', {
        ...base,
        state: 'failed',
        attempts: 1,
        next_attempt_at: null,
        last_error: 'the server did not accept the message: 550 5.1.1 No such user here',
      }),
    ]);
    const status = within(message('Your invoice.')).getByTestId('delivery');
    expect(status).toHaveTextContent('Email failed');
    expect(status).toHaveTextContent('550 5.1.1 No such user here');
    await user.click(within(status).getByRole('button', { name: 'Retry' }));
    await waitFor(() =>
      expect(api.find('POST', `/api/tickets/${ticket.id}/replies/r9/retry-delivery`)).toHaveLength(
        1,
      ),
    );
  });

  it('shows why a retry was refused', async () => {
    mockApi({
      'POST /api/tickets/:id/replies/:rid/retry-delivery': () =>
        apiError(409, 'delivery_not_failed', 'only a failed email can be retried'),
    });
    const { user } = renderThread(ticket, [
      sentReply('r9', 'Your invoice.', {
        ...base,
        state: 'failed',
        attempts: 8,
        next_attempt_at: null,
        last_error: 'gave up after 8 tries',
      }),
    ]);
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/only a failed email/i);
  });
});
