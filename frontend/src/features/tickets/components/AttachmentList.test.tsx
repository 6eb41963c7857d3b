import { screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { session } from '@/lib/auth/session';
import { apiError, json, mockApi } from '@/test/api';
import { admin, agent, ticket } from '@/test/fixtures';
import { renderWithApp } from '@/test/render';
import { TicketDetailPage } from '../routes/TicketDetailPage';

const pdf = {
  id: 'att-pdf',
  filename: 'invoice 7.pdf',
  content_type: 'application/pdf',
  size: 20480,
};
const log = { id: 'att-log', filename: 'error.log', content_type: 'text/plain', size: 300 };
const followUp = {
  id: 'reply-customer',
  ticket_id: ticket.id,
  author_type: 'customer' as const,
  author_id: null,
  body: 'Here is the log.',
  draft: false,
  sent_at: '2026-11-25T11:00:00Z',
  created_at: '2026-11-25T11:00:00Z',
  updated_at: '2026-11-25T11:00:00Z',
  attachments: [log],
};

function renderDetail() {
  return renderWithApp(<TicketDetailPage />, {
    route: `/tickets/${ticket.id}`,
    path: '/tickets/:id',
  });
}

describe('Attachments on the ticket page', () => {
  let created: Blob[];
  beforeEach(() => {
    created = [];
    session.setToken('the-token');
    vi.stubGlobal(
      'URL',
      Object.assign(URL, {
        createObjectURL: vi.fn((blob: Blob) => {
          created.push(blob);
          return 'blob:download-1';
        }),
        revokeObjectURL: vi.fn(),
      }),
    );
  });
  afterEach(() => session.clear());

  it('lists each file under the message it came with and downloads it with the token', async () => {
    const clicked: HTMLAnchorElement[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push(this);
    });
    const api = mockApi({
      'GET /api/tickets/:id': () =>
        json({ ticket, replies: [followUp], latest_run: null, attachments: [pdf] }),
      'GET /api/team': () => json({ items: [admin, agent] }),
      'GET /api/tickets/:id/attachments/:aid': () => json({ bytes: 'x' }),
    });
    const { user } = renderDetail();
    const [opening, reply] = await screen.findAllByTestId('message-customer');
    expect(
      within(opening!).getByRole('button', { name: 'Download invoice 7.pdf (20.0 KB)' }),
    ).toBeInTheDocument();
    expect(within(opening!).queryByText(/error\.log/)).not.toBeInTheDocument();
    expect(
      within(reply!).getByRole('button', { name: 'Download error.log (300 B)' }),
    ).toBeInTheDocument();
    expect(screen.getByText(/via Email/)).toBeInTheDocument();

    await user.click(within(opening!).getByRole('button', { name: /invoice 7\.pdf/ }));
    await waitFor(() => expect(clicked).toHaveLength(1));
    const [request] = api.find('GET', `/api/tickets/${ticket.id}/attachments/att-pdf`);
    expect(request?.headers.get('Authorization')).toBe('Bearer the-token');
    expect(await created[0]?.text()).toBe('{"bytes":"x"}');
    expect(clicked[0]?.download).toBe('invoice 7.pdf');
    expect(clicked[0]?.href).toBe('blob:download-1');
    click.mockRestore();
  });

  it('says so when a download fails', async () => {
    mockApi({
      'GET /api/tickets/:id': () =>
        json({ ticket, replies: [], latest_run: null, attachments: [pdf] }),
      'GET /api/team': () => json({ items: [admin, agent] }),
      'GET /api/tickets/:id/attachments/:aid': () =>
        apiError(404, 'attachment_not_found', 'attachment not found'),
    });
    const { user } = renderDetail();
    await user.click(await screen.findByRole('button', { name: /invoice 7\.pdf/ }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not download the file: attachment not found',
    );
    expect(created).toHaveLength(0);
  });
});
