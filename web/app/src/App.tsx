import { lazy } from "react";
import { Route, Routes } from "react-router";
import { Layout, RequireMember } from "./components/Layout";
import { SignInPage, RegisterPage } from "./pages/AuthPages";
import { ComposePage } from "./pages/ComposePage";
import { DraftsPage } from "./pages/DraftsPage";
import { EditPostPage } from "./pages/EditPostPage";
import { FeedPage } from "./pages/FeedPage";
import { PostPage } from "./pages/PostPage";

// The reading and writing pages come with the app; the rest load on first visit,
// so the first page a reader opens does not wait for the live log's or the
// history's code.
const HistoryPage = lazy(() =>
  import("./pages/HistoryPage").then((m) => ({ default: m.HistoryPage })),
);
const LiveLogPage = lazy(() =>
  import("./pages/LiveLogPage").then((m) => ({ default: m.LiveLogPage })),
);
const AccountPage = lazy(() =>
  import("./pages/AccountPage").then((m) => ({ default: m.AccountPage })),
);
const AdminPage = lazy(() => import("./pages/AdminPage").then((m) => ({ default: m.AdminPage })));
const CataloguePage = lazy(() =>
  import("./pages/CataloguePage").then((m) => ({ default: m.CataloguePage })),
);

export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<FeedPage />} />
        <Route path="signin" element={<SignInPage />} />
        <Route path="register" element={<RegisterPage />} />
        <Route path="new" element={<RequireMember><ComposePage /></RequireMember>} />
        <Route path="drafts" element={<RequireMember><DraftsPage /></RequireMember>} />
        <Route path="catalogue" element={<CataloguePage />} />
        <Route path="account" element={<RequireMember><AccountPage /></RequireMember>} />
        <Route path="admin" element={<RequireMember><AdminPage /></RequireMember>} />
        <Route path="log" element={<RequireMember><LiveLogPage /></RequireMember>} />
        <Route path="posts/:id" element={<PostPage />} />
        <Route path="posts/:id/history" element={<HistoryPage />} />
        <Route path="posts/:id/edit" element={<RequireMember><EditPostPage /></RequireMember>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <div className="empty card">
      <h1>Page not found</h1>
      <a href="/">Back to the feed</a>
    </div>
  );
}
