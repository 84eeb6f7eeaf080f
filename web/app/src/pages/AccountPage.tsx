import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useServices } from "../apollo/context";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { Field } from "../components/Field";
import { describe } from "../errors";
import { graphql } from "../gql";

export const AccountQuery = graphql(`
  query Account {
    me {
      id
      username
      displayName
      email
      bio
      role
      createdAt
      postCount
    }
  }
`);

export const ForgetMe = graphql(`
  mutation ForgetMe($password: String!) {
    forgetMe(password: $password) {
      id
      position
    }
  }
`);

export const ChangePassword = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) {
      position
      token
      user {
        id
        username
        displayName
      }
    }
  }
`);

export function AccountPage() {
  const { data, error, loading } = useQuery(AccountQuery, { fetchPolicy: "cache-and-network" });
  if (loading && !data) return <Loading label="Loading your account…" />;
  if (error && !data) return <ErrorMessage error={error} title="Your account could not be loaded." />;
  const me = data?.me;
  if (!me) return null;
  return (
    <>
      <h1 className="page-title">Your account</h1>
      <section className="card" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <dl className="profile">
          <dt>Name</dt>
          <dd>{me.displayName}</dd>
          <dt>Username</dt>
          <dd>@{me.username}</dd>
          <dt>Email</dt>
          <dd>{me.email}</dd>
          <dt>Role</dt>
          <dd>{me.role === "ADMIN" ? "Admin" : "Member"}</dd>
          <dt>Member since</dt>
          <dd>
            <time dateTime={me.createdAt} title={me.createdAt}>
              {new Date(me.createdAt).toLocaleDateString()}
            </time>
          </dd>
          <dt>Posts</dt>
          <dd>{me.postCount}</dd>
          {me.bio && (
            <>
              <dt>Bio</dt>
              <dd>{me.bio}</dd>
            </>
          )}
        </dl>
      </section>
      <ChangePasswordForm />
      <ForgetMeForm />
    </>
  );
}

function ForgetMeForm() {
  const { session, connection } = useServices();
  const client = useApolloClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [forget, { loading, error }] = useMutation(ForgetMe);

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      await forget({ variables: { password } });
    } catch {
      return; // shown below
    }
    session.signOut();
    connection.restart();
    await client.resetStore().catch(() => undefined);
    navigate("/", { replace: true });
  }

  return (
    <section className="card danger-zone" aria-labelledby="forget-title">
      <h2 id="forget-title">Forget me</h2>
      <p>
        Chronicle keeps every change as an event, for good. Forgetting you does not erase those events: it erases what identifies you in
        them. Your name, email and profile are removed from every event you wrote, everywhere in the app (the live log included), and you
        are signed out. Your account cannot sign in again, and this cannot be undone.
      </p>
      {!open ? (
        <button type="button" className="danger" onClick={() => setOpen(true)}>
          Forget me…
        </button>
      ) : (
        <form onSubmit={submit} className="confirm" aria-label="Confirm forget me">
          <label htmlFor="forget-password">Your password, to confirm</label>
          <input id="forget-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <div className="actions">
            <button type="submit" className="danger" disabled={loading || !password}>
              {loading ? "Forgetting…" : "Forget me for good"}
            </button>
            <button type="button" onClick={() => setOpen(false)} disabled={loading}>
              Cancel
            </button>
          </div>
          <ErrorMessage error={error} title="You were not forgotten." />
        </form>
      )}
    </section>
  );
}

function ChangePasswordForm() {
  const { session, connection } = useServices();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [done, setDone] = useState(false);
  const [change, { loading, error }] = useMutation(ChangePassword);
  const { general, fields } = describe(error);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(false);
    connection.changingToken(true);
    try {
      const result = await change({ variables: { input: { currentPassword: current, newPassword: next } } });
      const payload = result.data?.changePassword;
      // The change retires every earlier token: keep the fresh one, and
      // reopen the socket with it (the old socket is closed with 4403).
      if (payload?.token) {
        const { id, username, displayName } = payload.user;
        session.signIn(payload.token, { id, username, displayName });
      }
      setCurrent("");
      setNext("");
      setDone(true);
    } catch {
      // shown below
    } finally {
      connection.changingToken(false);
    }
  }

  return (
    <section className="card account-section" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form onSubmit={submit}>
        <Field id="current-password" label="Current password" error={fields.currentPassword}>
          {(props) => <input {...props} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />}
        </Field>
        <Field id="new-password" label="New password" error={fields.newPassword} hint="Other devices signed in as you are signed out.">
          {(props) => <input {...props} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />}
        </Field>
        <button type="submit" disabled={loading || !current || !next}>
          {loading ? "Changing…" : "Change password"}
        </button>
        {done && (
          <p role="status" className="muted">
            Your password was changed. You stay signed in here.
          </p>
        )}
        {general.length > 0 && <ErrorMessage error={error} title="The password was not changed." />}
      </form>
    </section>
  );
}
