//! What the desk says about a reply's email: the toast after saving it and the thread's status.
import type { Delivery, Reply } from './api/types';
import { formatDateTime } from './format';

export interface Notice {
  title: string;
  message: string;
}

/** The toast after a reply is saved: it says "queued for email" only when an email was queued. */
export function replySavedNotice(reply: Pick<Reply, 'delivery'>): Notice {
  const delivery = reply.delivery ?? null;
  if (!delivery)
    return {
      title: 'Reply recorded',
      message: 'Saved on the ticket. This ticket did not come by email, so nothing was emailed.',
    };
  switch (delivery.state) {
    case 'queued':
    case 'sending':
      return {
        title: 'Reply queued for email',
        message: 'Saved on the ticket; it is on its way to the customer.',
      };
    case 'sent':
      return { title: 'Reply emailed', message: 'The customer’s mail server accepted it.' };
    case 'failed':
      return {
        title: 'Reply saved, email failed',
        message: delivery.last_error ?? 'The email could not be delivered.',
      };
    case 'not_emailed':
      return {
        title: 'Reply recorded',
        message: 'Saved on the ticket. No mailbox is connected, so nothing was emailed.',
      };
  }
}

/** A short status for the thread: "Email queued", "Emailed 25 Nov 2026, 11:00", … */
export function deliveryLabel(delivery: Delivery): string {
  switch (delivery.state) {
    case 'queued':
      return delivery.attempts > 0
        ? `Email queued · next try ${formatDateTime(delivery.next_attempt_at)}`
        : 'Email queued';
    case 'sending':
      return 'Email sending…';
    case 'sent':
      return `Emailed ${formatDateTime(delivery.sent_at)}`;
    case 'failed':
      return 'Email failed';
    case 'not_emailed':
      return 'Recorded, not emailed';
  }
}
