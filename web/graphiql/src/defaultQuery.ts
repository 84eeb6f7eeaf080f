/** What a first-time visitor sees: a working query and how to authenticate. */
export const defaultQuery = `# Chronicle's GraphQL API.
#
# Run Register (or login), then paste its token
# into the Headers pane below:
#   { "Authorization": "Bearer <token>" }
# Subscriptions send the same header over a
# graphql-ws websocket, e.g.
#   subscription { events { type position } }

query LatestPosts {
  posts(first: 20) {
    edges {
      node {
        title
        author { username displayName }
        commentCount
        likeCount
      }
    }
  }
}

mutation Register {
  register(input: {
    username: "ada"
    email: "ada@example.com"
    password: "correct horse battery"
  }) {
    token
    user { username }
  }
}
`;
