//! A reply being typed, kept in the browser until it is sent: a session that expires mid-reply
//! (or a reload, or a visit to another page) does not lose it. Keyed by user and ticket.
const PREFIX = 'opsflow.reply.';

function key(userId: string | undefined, ticketId: string): string {
  return `${PREFIX}${userId ?? 'anonymous'}.${ticketId}`;
}

export function loadReplyDraft(userId: string | undefined, ticketId: string): string {
  try {
    return window.localStorage.getItem(key(userId, ticketId)) ?? '';
  } catch {
    return '';
  }
}

export function storeReplyDraft(userId: string | undefined, ticketId: string, text: string) {
  try {
    if (text.trim()) window.localStorage.setItem(key(userId, ticketId), text);
    else window.localStorage.removeItem(key(userId, ticketId));
  } catch {
    // Storage full or disabled: the reply is only in the form, as before.
  }
}

export { useConfirmLeave } from '@/lib/confirmLeave';
