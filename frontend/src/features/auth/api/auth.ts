//! Sign up and log in.
import { useMutation } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import type { AuthResponse, LoginBody, SignupBody } from '@/lib/api/types';
import { useAuth } from '@/lib/auth/context';

export function signup(body: SignupBody): Promise<AuthResponse> {
  return unwrap(api.POST('/auth/signup', { body }));
}

export function login(body: LoginBody): Promise<AuthResponse> {
  return unwrap(api.POST('/auth/login', { body }));
}

export function useSignup() {
  const { signIn } = useAuth();
  return useMutation({ mutationFn: signup, onSuccess: signIn });
}

export function useLogin() {
  const { signIn } = useAuth();
  return useMutation({ mutationFn: login, onSuccess: signIn });
}
