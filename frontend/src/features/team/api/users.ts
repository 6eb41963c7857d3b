//! Team management: list, add and change users (admin only).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { CreateUserResponse, PasswordResetResponse, Role, User } from '@/lib/api/types';
import { usersQueryOptions } from '@/lib/api/users';

export function useTeam() {
  return useQuery(usersQueryOptions);
}

export interface NewUser {
  name: string;
  email: string;
  role: Role;
}

export function createUser(body: NewUser): Promise<CreateUserResponse> {
  return unwrap(api.POST('/users', { body }));
}

export interface UserChanges {
  name?: string;
  role?: Role;
  active?: boolean;
}

export function updateUser(id: string, body: UserChanges): Promise<User> {
  return unwrap(api.PATCH('/users/{id}', { params: { path: { id } }, body }));
}

export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: createUser,
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.users }),
  });
}

export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: string; changes: UserChanges }) => updateUser(id, changes),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.users }),
  });
}

/** Replaces a user's password with a temporary one, answered once; their sessions end. */
export function resetPassword(id: string): Promise<PasswordResetResponse> {
  return unwrap(api.POST('/users/{id}/password-reset', { params: { path: { id } } }));
}

export function useResetPassword() {
  return useMutation({ mutationFn: resetPassword });
}
