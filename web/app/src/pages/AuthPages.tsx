import { useApolloClient, useMutation } from "@apollo/client/react";
import type { FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { useServices } from "../apollo/context";
import { ErrorMessage } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { describe } from "../errors";
import { graphql } from "../gql";
import { useSession } from "../hooks/useSession";

const Login = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      token
      position
      user {
        id
        username
        displayName
      }
    }
  }
`);

const Register = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      token
      position
      user {
        id
        username
        displayName
      }
    }
  }
`);

interface FromState {
  from?: string;
}

/** After signing in: the new token on the socket, the cache re-read as this member. */
function useSignedIn() {
  const { session, connection } = useServices();
  const client = useApolloClient();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as FromState | null)?.from ?? "/";
  return (token: string, user: { id: string; username: string; displayName: string }) => {
    session.signIn(token, user);
    connection.restart();
    void client.resetStore().catch(() => undefined);
    navigate(from, { replace: true });
  };
}

export function SignInPage() {
  const { expired } = useSession();
  const signedIn = useSignedIn();
  const [login, { loading, error }] = useMutation(Login);
  const report = describe(error);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const { data } = await login({
        variables: { input: { username: String(form.get("username")), password: String(form.get("password")) } },
      });
      if (data) signedIn(data.login.token, data.login.user);
    } catch {
      // shown below
    }
  }

  return (
    <div className="narrow">
      <h1 className="page-title">Sign in</h1>
      {expired && (
        <p role="alert" className="notice notice-warning">
          Your session has ended. Sign in again: what you were writing is kept.
        </p>
      )}
      <form className="card auth-form" onSubmit={submit}>
        <TextField name="username" label="Username" autoComplete="username" error={report.fields.username} />
        <TextField name="password" label="Password" type="password" autoComplete="current-password" error={report.fields.password} />
        {error && report.general.length > 0 && <ErrorMessage error={error} title="Not signed in." />}
        <button type="submit" className="primary" disabled={loading}>
          Sign in
        </button>
      </form>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </div>
  );
}

export function RegisterPage() {
  const signedIn = useSignedIn();
  const [register, { loading, error }] = useMutation(Register);
  const report = describe(error);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const displayName = String(form.get("displayName") ?? "").trim();
    try {
      const { data } = await register({
        variables: {
          input: {
            username: String(form.get("username")),
            email: String(form.get("email")),
            password: String(form.get("password")),
            ...(displayName ? { displayName } : {}),
          },
        },
      });
      if (data) signedIn(data.register.token, data.register.user);
    } catch {
      // shown below
    }
  }

  return (
    <div className="narrow">
      <h1 className="page-title">Create an account</h1>
      <form className="card auth-form" onSubmit={submit}>
        <TextField name="username" label="Username" autoComplete="username" error={report.fields.username} hint="3–32 letters, digits or underscores" />
        <TextField name="email" label="Email" type="email" autoComplete="email" error={report.fields.email} />
        <TextField name="password" label="Password" type="password" autoComplete="new-password" error={report.fields.password} hint="At least 8 characters" />
        <TextField name="displayName" label="Display name (optional)" autoComplete="nickname" error={report.fields.displayName} />
        {error && report.general.length > 0 && <ErrorMessage error={error} title="No account was created." />}
        <button type="submit" className="primary" disabled={loading}>
          Create account
        </button>
      </form>
      <p>
        Already a member? <Link to="/signin">Sign in</Link>
      </p>
    </div>
  );
}

/** An uncontrolled input read from the form's data on submit. */
function TextField({
  name,
  type = "text",
  autoComplete,
  ...field
}: {
  name: string;
  label: string;
  type?: string;
  autoComplete: string;
  error: string | undefined;
  hint?: string;
}) {
  return <Field id={`field-${name}`} {...field}>{(props) => <input {...props} name={name} type={type} autoComplete={autoComplete} />}</Field>;
}
