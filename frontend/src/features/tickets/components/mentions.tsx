import { Mark } from '@mantine/core';
import type { ReactNode } from 'react';
import type { TeamMember } from '@/lib/api/types';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The text with every `@Name` of a colleague highlighted (longest names first). */
export function withMentions(text: string, users: readonly Pick<TeamMember, 'name'>[]): ReactNode {
  const names = users
    .map((u) => u.name)
    .filter(Boolean)
    .sort((a, b) => b.length - a.length);
  if (!names.length || !text.includes('@')) return text;
  const pattern = new RegExp(`(@(?:${names.map(escape).join('|')}))`, 'g');
  return text.split(pattern).map((part, i) =>
    i % 2 === 1 ? (
      <Mark key={i} color="yellow" data-testid="mention">
        {part}
      </Mark>
    ) : (
      part
    ),
  );
}
