import { Route, Routes } from "react-router";
import { Layout, RequireMember } from "./components/Layout";
import { SignInPage, RegisterPage } from "./pages/AuthPages";
import { ComposePage } from "./pages/ComposePage";
import { DraftsPage } from "./pages/DraftsPage";
import { EditPostPage } from "./pages/EditPostPage";
import { FeedPage } from "./pages/FeedPage";
import { HistoryPage } from "./pages/HistoryPage";
import { LiveLogPage } from "./pages/LiveLogPage";
import { AccountPage } from "./pages/AccountPage";
import { AdminPage } from "./pages/AdminPage";
import { CataloguePage } from "./pages/CataloguePage";
import { PostPage } from "./pages/PostPage";

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
