import { Avatar, Badge, Group, Paper, Stack, Text } from '@mantine/core';
import { IconLock, IconRobot, IconUser, IconUserCircle } from '@tabler/icons-react';
import type { Reply, TeamMember, Ticket } from '@/lib/api/types';
import { formatDateTime } from '@/lib/format';
import { withMentions } from './mentions';

function Message({
  who,
  badge,
  icon,
  color,
  when,
  body,
  dashed,
  testId,
}: {
  who: string;
  badge: string;
  icon: React.ReactNode;
  color: string;
  when: string;
  body: React.ReactNode;
  dashed?: boolean;
  testId: string;
}) {
  return (
    <Paper
      withBorder
      p="md"
      radius="md"
      data-testid={testId}
      style={{
        borderLeft: `4px solid var(--mantine-color-${color}-5)`,
        borderStyle: dashed ? 'dashed' : undefined,
        background: dashed ? 'var(--mantine-color-yellow-0)' : undefined,
      }}
    >
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Group gap="xs">
          <Avatar size="sm" color={color} radius="xl">
            {icon}
          </Avatar>
          <Text fw={600} size="sm">
            {who}
          </Text>
          <Badge size="sm" color={color} variant="light">
            {badge}
          </Badge>
        </Group>
        <Text size="xs" c="dimmed">
          {when}
        </Text>
      </Group>
      <Text size="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
        {body}
      </Text>
    </Paper>
  );
}

/** The customer's message and every reply, oldest first; AI drafts are marked as unsent. */
export function ReplyThread({
  ticket,
  replies,
  users,
}: {
  ticket: Ticket;
  replies: readonly Reply[];
  users: readonly TeamMember[];
}) {
  return (
    <Stack gap="sm" aria-label="Conversation">
      <Message
        testId="message-customer"
        who={ticket.customer_name}
        badge="Customer"
        icon={<IconUserCircle size={16} />}
        color="gray"
        when={formatDateTime(ticket.created_at)}
        body={ticket.body}
      />
      {replies.map((reply) => {
        if (reply.author_type === 'customer')
          return (
            <Message
              key={reply.id}
              testId="message-customer"
              who={ticket.customer_name}
              badge="Customer"
              icon={<IconUserCircle size={16} />}
              color="gray"
              when={formatDateTime(reply.created_at)}
              body={reply.body}
            />
          );
        if (reply.author_type === 'note')
          return (
            <Message
              key={reply.id}
              testId="message-note"
              who={authorName(users, reply.author_id)}
              badge="Internal note · team only"
              icon={<IconLock size={16} />}
              color="yellow"
              when={formatDateTime(reply.created_at)}
              body={withMentions(reply.body, users)}
              dashed
            />
          );
        if (reply.draft)
          return (
            <Message
              key={reply.id}
              testId="message-draft"
              who={reply.author_type === 'ai' ? 'AI assistant' : authorName(users, reply.author_id)}
              badge={reply.author_type === 'ai' ? 'AI draft · not sent' : 'Draft · not sent'}
              icon={<IconRobot size={16} />}
              color="yellow"
              when={formatDateTime(reply.updated_at ?? reply.created_at)}
              body={reply.body}
              dashed
            />
          );
        return (
          <Message
            key={reply.id}
            testId="message-agent"
            who={reply.author_type === 'ai' ? 'AI assistant' : authorName(users, reply.author_id)}
            badge={reply.author_type === 'ai' ? 'AI reply · recorded' : 'Agent reply · recorded'}
            icon={reply.author_type === 'ai' ? <IconRobot size={16} /> : <IconUser size={16} />}
            color="indigo"
            when={formatDateTime(reply.sent_at ?? reply.created_at)}
            body={reply.body}
          />
        );
      })}
    </Stack>
  );
}

function authorName(users: readonly TeamMember[], id: string | null | undefined): string {
  return users.find((user) => user.id === id)?.name ?? 'Agent';
}
