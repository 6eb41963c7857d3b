import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { admin, tenant } from '@/test/fixtures';
import { apiError, json, mockApi } from '@/test/api';
import { renderWithApp } from '@/test/render';
import { LoginForm } from './LoginForm';
import { SignupForm } from './SignupForm';

const authResponse = { user: admin, tenant, access_token: 'token-123' };

describe('SignupForm', () => {
  it('shows what is wrong with each field before calling the API', async () => {
    const api = mockApi({});
    const { user } = renderWithApp(<SignupForm />, { user: null });

    await user.type(screen.getByLabelText(/Your name/), '   ');
    await user.type(screen.getByLabelText(/Email/), 'not-an-email');
    await user.type(screen.getByLabelText(/^Password/), 'short');
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));

    expect(await screen.findByText('Workspace name is required')).toBeInTheDocument();
    expect(screen.getByText('Your name is required')).toBeInTheDocument();
    expect(screen.getByText('Enter a valid email address')).toBeInTheDocument();
    expect(screen.getByText('Password must be at least 8 characters')).toBeInTheDocument();
    expect(api.requests).toHaveLength(0);
  });

  it('rejects a workspace name longer than the API allows', async () => {
    mockApi({});
    const { user } = renderWithApp(<SignupForm />, { user: null });
    await user.click(screen.getByLabelText(/Workspace name/));
    await user.paste('x'.repeat(101));
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));
    expect(
      await screen.findByText('Workspace name must be at most 100 characters'),
    ).toBeInTheDocument();
  });

  it('sends trimmed values and signs the user in', async () => {
    const api = mockApi({ 'POST /api/auth/signup': () => json(authResponse, 201) });
    const { user, auth } = renderWithApp(<SignupForm />, { user: null });

    await user.type(screen.getByLabelText(/Workspace name/), '  Acme Agency ');
    await user.type(screen.getByLabelText(/Your name/), 'Ada Admin');
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test ');
    await user.type(screen.getByLabelText(/^Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));

    await waitFor(() => expect(auth.signIn).toHaveBeenCalled());
    expect(api.find('POST', '/api/auth/signup')[0]?.body).toEqual({
      tenant_name: 'Acme Agency',
      user_name: 'Ada Admin',
      email: 'ada@acme.test',
      password: 'correct horse',
    });
  });

  it('asks before creating another workspace for an email that has one', async () => {
    let calls = 0;
    const api = mockApi({
      'POST /api/auth/signup': () => {
        calls += 1;
        return calls === 1
          ? apiError(
              409,
              'additional_workspace_required',
              'this email already belongs to a workspace',
            )
          : json(authResponse, 201);
      },
    });
    const { user, auth } = renderWithApp(<SignupForm />, { user: null });
    await user.type(screen.getByLabelText(/Workspace name/), 'Second Agency');
    await user.type(screen.getByLabelText(/Your name/), 'Ada Admin');
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/^Password/), 'correct horse');
    expect(screen.queryByLabelText(/create another workspace/)).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(/already belongs to a workspace/);
    expect(auth.signIn).not.toHaveBeenCalled();
    await user.click(screen.getByLabelText(/create another workspace/));
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));
    await waitFor(() => expect(auth.signIn).toHaveBeenCalled());
    const bodies = api.find('POST', '/api/auth/signup').map((r) => r.body);
    expect(bodies[0]).not.toHaveProperty('additional_workspace');
    expect(bodies[1]).toMatchObject({ additional_workspace: true, tenant_name: 'Second Agency' });
  });

  it('puts the API field errors on the fields', async () => {
    mockApi({
      'POST /api/auth/signup': () =>
        apiError(422, 'validation_failed', 'Some fields are invalid', {
          email: 'email is not a valid address',
          tenant_name: 'name is taken',
        }),
    });
    const { user } = renderWithApp(<SignupForm />, { user: null });
    await user.type(screen.getByLabelText(/Workspace name/), 'Acme');
    await user.type(screen.getByLabelText(/Your name/), 'Ada');
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/^Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));

    expect(await screen.findByText('email is not a valid address')).toBeInTheDocument();
    expect(screen.getByText('name is taken')).toBeInTheDocument();
    expect(screen.getByLabelText(/Email/)).toHaveAttribute('aria-invalid', 'true');
  });

  it('says when the server cannot be reached', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    const { user } = renderWithApp(<SignupForm />, { user: null });
    await user.type(screen.getByLabelText(/Workspace name/), 'Acme');
    await user.type(screen.getByLabelText(/Your name/), 'Ada');
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/^Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Create workspace' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/Cannot reach the server/);
  });
});

describe('LoginForm', () => {
  it('requires email and password', async () => {
    const api = mockApi({});
    const { user } = renderWithApp(<LoginForm />, { user: null });
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('Email is required')).toBeInTheDocument();
    expect(screen.getByText('Password is required')).toBeInTheDocument();
    expect(api.requests).toHaveLength(0);
  });

  it('says the credentials are wrong on 401', async () => {
    mockApi({
      'POST /api/auth/login': () =>
        apiError(401, 'invalid_credentials', 'Invalid email or password'),
    });
    const { user, auth } = renderWithApp(<LoginForm />, { user: null });
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/Password/), 'wrong password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Incorrect email or password.');
    expect(auth.signIn).not.toHaveBeenCalled();
  });

  it('says when logins are paused after too many failures', async () => {
    mockApi({
      'POST /api/auth/login': () =>
        apiError(
          429,
          'too_many_attempts',
          'too many failed logins for this email; try again in 15 minute(s)',
        ),
    });
    const { user, auth } = renderWithApp(<LoginForm />, { user: null });
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'too many failed logins for this email; try again in 15 minute(s)',
    );
    expect(auth.signIn).not.toHaveBeenCalled();
  });

  it('asks which workspace when the login matches several, then logs into the chosen one', async () => {
    const api = mockApi({
      'POST /api/auth/login': (request) => {
        const body = request.body as { tenant_slug?: string };
        if (!body.tenant_slug)
          return apiError(409, 'tenant_required', 'Choose a workspace', undefined, {
            workspaces: [
              { slug: 'acme-agency', name: 'Acme Agency' },
              { slug: 'globex', name: 'Globex' },
            ],
          });
        return json(authResponse);
      },
    });
    const { user, auth } = renderWithApp(<LoginForm />, { user: null });
    await user.type(screen.getByLabelText(/Email/), 'ada@acme.test');
    await user.type(screen.getByLabelText(/Password/), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Log in' }));

    expect(await screen.findByText('Choose a workspace')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Continue to workspace' }));
    expect(
      await screen.findByText('Choose a workspace', { selector: '.mantine-InputWrapper-error' }),
    ).toBeInTheDocument();

    await user.click(screen.getByRole('radio', { name: /Globex/ }));
    await user.click(screen.getByRole('button', { name: 'Continue to workspace' }));
    await waitFor(() => expect(auth.signIn).toHaveBeenCalled());
    expect(api.find('POST', '/api/auth/login')[1]?.body).toEqual({
      email: 'ada@acme.test',
      password: 'correct horse',
      tenant_slug: 'globex',
    });
  });
});
