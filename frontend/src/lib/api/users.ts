//! The workspace's users, for assignee pickers and names across features.
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import { queryKeys } from './keys';
import type { TeamMember, User } from './types';

/** The workspace's users with emails (admin only). */
export function fetchUsers(): Promise<User[]> {
  return unwrap(api.GET('/users')).then((page) => page.items);
}

export const usersQueryOptions = queryOptions({
  queryKey: queryKeys.users,
  queryFn: fetchUsers,
  staleTime: 30_000,
});

export function fetchTeam(): Promise<TeamMember[]> {
  return unwrap(api.GET('/team')).then((page) => page.items);
}

/**
 * The team directory (names, roles, active) for display and pickers; every member may read it,
 * unlike the admin-only user list.
 */
export function useDirectory() {
  return useQuery({
    queryKey: [...queryKeys.users, 'directory'],
    staleTime: 30_000,
    queryFn: fetchTeam,
  });
}

/** A person's name for a user id, or a neutral label when unknown. */
export function userName(users: readonly TeamMember[] | undefined, id: string | null | undefined) {
  if (!id) return 'Unassigned';
  return users?.find((user) => user.id === id)?.name ?? 'Another team member';
}
