//! Files that came with a ticket's emails. They are fetched with the bearer token (a plain link
//! would not carry it) and handed to the browser as a blob URL.
import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import type { Attachment } from '@/lib/api/types';

export function fetchAttachment(ticketId: string, attachmentId: string): Promise<Blob> {
  return unwrap(
    api.GET('/tickets/{id}/attachments/{attachment_id}', {
      params: { path: { id: ticketId, attachment_id: attachmentId } },
      parseAs: 'blob',
    }),
  ) as Promise<Blob>;
}

/** Downloads the file under its own name. */
export async function downloadAttachment(ticketId: string, attachment: Attachment): Promise<void> {
  const blob = await fetchAttachment(ticketId, attachment.id);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = attachment.filename;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoked after the click has been handled, not before the browser starts the download.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function useDownloadAttachment(ticketId: string) {
  return useMutation({
    mutationFn: (attachment: Attachment) => downloadAttachment(ticketId, attachment),
  });
}
