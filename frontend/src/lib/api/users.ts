//! The workspace's users, for assignee pickers and names across features.
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import { ApiError } from './errors';
import { queryKeys } from './keys';
import type { User } from './types';

/** Lists users; the API may answer with `{items}` or a bare array. */
export async function fetchUsers(): Promise<User[]> {
  const data: unknown = await unwrap(api.GET('/users'));
  if (Array.isArray(data)) return data as User[];
  return (data as { items: User[] }).items;
}

export const usersQueryOptions = queryOptions({
  queryKey: queryKeys.users,
  queryFn: fetchUsers,
  staleTime: 30_000,
});

/**
 * Users for display and pickers. Agents may not be allowed to list users (403): then this
 * answers an empty list and callers fall back to what they know (the current user).
 */
export function useDirectory() {
  return useQuery({
    queryKey: [...queryKeys.users, 'directory'],
    staleTime: 30_000,
    retry: false,
    queryFn: async () => {
      try {
        return await fetchUsers();
      } catch (error) {
        if (error instanceof ApiError && error.status === 403) return [];
        throw error;
      }
    },
  });
}

/** A person's name for a user id, or a neutral label when unknown. */
export function userName(users: readonly User[] | undefined, id: string | null | undefined) {
  if (!id) return 'Unassigned';
  return users?.find((user) => user.id === id)?.name ?? 'Another team member';
}
