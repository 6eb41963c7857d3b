import { Button, Group, MultiSelect, Select, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { IconSearch, IconX } from '@tabler/icons-react';
import { useState } from 'react';
import {
  label,
  TICKET_CATEGORIES,
  TICKET_PRIORITIES,
  TICKET_SORTS,
  TICKET_STATUSES,
} from '@/lib/api/enums';
import type {
  TeamMember,
  TicketCategory,
  TicketPriority,
  TicketSort,
  TicketStatus,
  User,
} from '@/lib/api/types';
import { ME, type TicketFilters, UNASSIGNED } from './useTicketFilters';

const options = (values: readonly string[]) =>
  values.map((value) => ({ value, label: label(value) }));

export function TicketFiltersBar({
  filters,
  onChange,
  onReset,
  active,
  users,
  currentUser,
  defaultSort = 'created',
}: {
  /** The order used when none is chosen (the view's). */
  defaultSort?: TicketSort;
  filters: TicketFilters;
  onChange: (changes: Partial<TicketFilters>) => void;
  onReset: () => void;
  active: boolean;
  users: readonly TeamMember[];
  currentUser: User | null;
}) {
  const [search, setSearch] = useState(filters.q);
  const pushSearch = useDebouncedCallback((q: string) => onChange({ q }), 350);

  // Follow the URL when it changes from elsewhere (back button, reset).
  const [urlQ, setUrlQ] = useState(filters.q);
  if (urlQ !== filters.q) {
    setUrlQ(filters.q);
    setSearch(filters.q);
  }

  // Best match only means something for a search.
  const searching = filters.q.trim() !== '';
  const people = users.length ? users : currentUser ? [currentUser] : [];
  const assigneeOptions = [
    { value: ME, label: 'Me' },
    { value: UNASSIGNED, label: 'Unassigned' },
    ...people.map((user) => ({
      value: user.id,
      label: user.id === currentUser?.id ? `${user.name} (me)` : user.name,
    })),
  ];
  if (filters.assignee && !assigneeOptions.some((o) => o.value === filters.assignee)) {
    assigneeOptions.push({ value: filters.assignee, label: 'Unknown user' });
  }

  return (
    <Group gap="sm" align="flex-end" wrap="wrap">
      <TextInput
        label="Search"
        placeholder="Subject, body, customer…"
        leftSection={<IconSearch size={16} />}
        value={search}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
          pushSearch(event.currentTarget.value);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') onChange({ q: search });
        }}
        w={{ base: '100%', sm: 240 }}
      />
      <MultiSelect
        label="Status"
        placeholder={filters.status.length ? undefined : 'Any status'}
        data={options(TICKET_STATUSES)}
        value={filters.status}
        onChange={(value) => onChange({ status: value as TicketStatus[] })}
        clearable
        w={200}
      />
      <MultiSelect
        label="Priority"
        placeholder={filters.priority.length ? undefined : 'Any priority'}
        data={options(TICKET_PRIORITIES)}
        value={filters.priority}
        onChange={(value) => onChange({ priority: value as TicketPriority[] })}
        clearable
        w={200}
      />
      <Select
        label="Category"
        placeholder="Any category"
        data={options(TICKET_CATEGORIES)}
        value={filters.category}
        onChange={(value) => onChange({ category: value as TicketCategory | null })}
        clearable
        w={170}
      />
      <Select
        label="Assignee"
        placeholder="Anyone"
        data={assigneeOptions}
        value={filters.assignee}
        onChange={(value) => onChange({ assignee: value })}
        clearable
        searchable
        w={180}
      />
      <Select
        label="Sort"
        data={options(searching ? TICKET_SORTS : TICKET_SORTS.filter((s) => s !== 'relevance'))}
        value={
          !searching && filters.sort === 'relevance' ? defaultSort : (filters.sort ?? defaultSort)
        }
        onChange={(value) =>
          onChange({ sort: value === defaultSort ? null : (value as TicketSort) })
        }
        allowDeselect={false}
        w={170}
      />
      {active && (
        <Button
          variant="subtle"
          leftSection={<IconX size={14} />}
          onClick={() => {
            setSearch('');
            onReset();
          }}
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}
