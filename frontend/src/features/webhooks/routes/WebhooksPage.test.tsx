import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, json, mockApi } from '@/test/api';
import { renderWithApp } from '@/test/render';
import { WebhooksPage } from './WebhooksPage';

const hook = {
  id: '0190a0a0-0000-7000-8000-000000000001',
  url: 'https://crm.example.com/hooks',
  description: 'CRM',
  events: ['ticket.created', 'reply.created'],
  enabled: false,
  disabled_reason: 'disabled automatically after 15 failed attempts in a row; last: HTTP 500',
  consecutive_failures: 15,
  created_at: '2026-12-02T10:00:00Z',
  updated_at: '2026-12-02T10:00:00Z',
};

const delivery = (over: Record<string, unknown>) => ({
  id: 'msg_0190a0a0000070008000000000000002',
  event_type: 'ticket.created',
  status: 'failed',
  attempts: 8,
  next_attempt_at: null,
  last_status: 500,
  last_error: 'the endpoint answered HTTP 500',
  response_excerpt: 'oops',
  payload: '{}',
  created_at: '2026-12-02T10:00:00Z',
  updated_at: '2026-12-02T10:00:00Z',
  ...over,
});

describe('WebhooksPage', () => {
  it('adds an endpoint with the chosen events and shows its secret once', async () => {
    let list: unknown[] = [];
    const api = mockApi({
      'GET /api/webhooks': () => json(list),
      'POST /api/webhooks': (req) => {
        const created = { ...hook, ...(req.body as object), enabled: true, disabled_reason: null };
        list = [created];
        return json(
          { webhook: created, secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==' },
          201,
        );
      },
    });
    const { user } = renderWithApp(<WebhooksPage />);
    expect(await screen.findByText('No endpoints yet.')).toBeInTheDocument();
    await user.type(screen.getByLabelText(/Endpoint URL/), 'https://crm.example.com/hooks');
    await user.click(screen.getByRole('checkbox', { name: 'Reply sent' }));
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));

    const secret = await screen.findByLabelText('Signing secret');
    expect(secret).toHaveTextContent('whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==');
    expect(api.find('POST', '/api/webhooks')[0]?.body).toEqual({
      url: 'https://crm.example.com/hooks',
      description: '',
      events: ['ticket.created', 'reply.created'],
    });
    await user.click(screen.getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe(
      'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==',
    );
    expect(
      await screen.findByRole('region', { name: /Webhook https:\/\/crm/ }),
    ).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'I have stored it' }));
    expect(screen.queryByLabelText('Signing secret')).not.toBeInTheDocument();
  });

  it('shows the server refusing a private address on the URL field', async () => {
    mockApi({
      'GET /api/webhooks': () => json([]),
      'POST /api/webhooks': () =>
        apiError(422, 'validation_failed', 'url: not allowed', {
          url: '10.0.0.1 is a private network address (10.0.0.1); private and local addresses are not allowed',
        }),
    });
    const { user } = renderWithApp(<WebhooksPage />);
    await user.type(await screen.findByLabelText(/Endpoint URL/), 'http://10.0.0.1/x');
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(await screen.findByText(/private network address/)).toBeInTheDocument();
    expect(screen.queryByLabelText('Signing secret')).not.toBeInTheDocument();
  });

  it('shows why an endpoint was disabled, its delivery log, and retries a message', async () => {
    const api = mockApi({
      'GET /api/webhooks': () => json([hook]),
      'GET /api/webhooks/:id/deliveries': () =>
        json({
          items: [
            delivery({}),
            delivery({
              id: 'msg_0190a0a0000070008000000000000003',
              status: 'retrying',
              attempts: 2,
              next_attempt_at: '2026-12-02T10:05:00Z',
              last_status: 503,
              last_error: 'the endpoint answered HTTP 503',
            }),
          ],
          total: 2,
          page: 1,
          per_page: 20,
        }),
      'POST /api/webhooks/:id/deliveries/:delivery_id/retry': () =>
        json(delivery({ status: 'queued', attempts: 0 }), 202),
      'PATCH /api/webhooks/:id': () => json({ ...hook, enabled: true, disabled_reason: null }),
    });
    const { user } = renderWithApp(<WebhooksPage />);
    const card = await screen.findByRole('region', { name: /Webhook https:\/\/crm/ });
    expect(within(card).getByText(/15 failed attempts in a row/)).toBeInTheDocument();
    expect(within(card).getByText('Disabled')).toBeInTheDocument();

    await user.click(within(card).getByRole('button', { name: 'Delivery log' }));
    const table = await within(card).findByRole('table', { name: 'Deliveries' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1]!).getByText('failed')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('500')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('8')).toBeInTheDocument();
    expect(within(rows[2]!).getByText('retrying')).toBeInTheDocument();
    expect(within(rows[2]!).getByText('the endpoint answered HTTP 503')).toBeInTheDocument();
    // Only finished messages can be sent again.
    expect(within(rows[2]!).queryByRole('button', { name: /Retry/ })).not.toBeInTheDocument();
    await user.click(within(rows[1]!).getByRole('button', { name: /Retry/ }));
    await waitFor(() =>
      expect(
        api.find(
          'POST',
          `/api/webhooks/${hook.id}/deliveries/msg_0190a0a0000070008000000000000002/retry`,
        ),
      ).toHaveLength(1),
    );

    await user.click(within(card).getByRole('button', { name: 'Enable' }));
    await waitFor(() => expect(api.find('PATCH', `/api/webhooks/${hook.id}`)).toHaveLength(1));
    expect(api.find('PATCH', `/api/webhooks/${hook.id}`)[0]?.body).toEqual({ enabled: true });
  });

  it('deletes only after confirmation', async () => {
    let list = [hook];
    const api = mockApi({
      'GET /api/webhooks': () => json(list),
      'DELETE /api/webhooks/:id': () => {
        list = [];
        return { status: 204 };
      },
    });
    const { user } = renderWithApp(<WebhooksPage />);
    const card = await screen.findByRole('region', { name: /Webhook https:\/\/crm/ });
    await user.click(within(card).getByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete this endpoint?' });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(api.find('DELETE', `/api/webhooks/${hook.id}`)).toHaveLength(0);
    await user.click(within(card).getByRole('button', { name: 'Delete' }));
    await user.click(await screen.findByRole('button', { name: 'Delete endpoint' }));
    expect(await screen.findByText('No endpoints yet.')).toBeInTheDocument();
    expect(api.find('DELETE', `/api/webhooks/${hook.id}`)).toHaveLength(1);
  });
});
