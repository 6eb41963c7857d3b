import { Button, Group, Text } from '@mantine/core';
import { IconPaperclip } from '@tabler/icons-react';
import { errorMessage } from '@/lib/api/errors';
import type { Attachment } from '@/lib/api/types';
import { useDownloadAttachment } from '../api/attachments';

/** "12.3 KB": sizes as people read them. */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The files that came with one message, as download buttons. */
export function AttachmentList({
  ticketId,
  attachments,
}: {
  ticketId: string;
  attachments: readonly Attachment[];
}) {
  const download = useDownloadAttachment(ticketId);
  if (attachments.length === 0) return null;
  return (
    <div>
      <Group gap="xs" mt="sm" aria-label="Attachments">
        {attachments.map((file) => (
          <Button
            key={file.id}
            size="compact-sm"
            variant="light"
            color="gray"
            leftSection={<IconPaperclip size={14} aria-hidden />}
            loading={download.isPending && download.variables.id === file.id}
            onClick={() => download.mutate(file)}
            aria-label={`Download ${file.filename} (${formatSize(file.size)})`}
          >
            {file.filename} · {formatSize(file.size)}
          </Button>
        ))}
      </Group>
      {download.isError && (
        <Text size="xs" c="red" mt={4} role="alert">
          Could not download the file: {errorMessage(download.error)}
        </Text>
      )}
    </div>
  );
}
