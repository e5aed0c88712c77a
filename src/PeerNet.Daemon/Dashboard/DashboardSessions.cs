using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

using PeerNet.Daemon.Api;

namespace PeerNet.Daemon.Dashboard;

/// <summary>
/// The dashboard's sign-in: one one-time link token at a time, and the browser sessions it was exchanged for.
/// <para>
/// The link token is not the API token, nor derived from it: a link ends up in the browser's history, the terminal's
/// scrollback and the journal, places the 0600 <c>api-token</c> file is kept out of. A random token that dies on its
/// first use (and with the daemon) leaks nothing there; the API token in a URL would stay valid for as long as the
/// file does. For the same reason the cookie holds a session id of its own, never the API token: a stolen cookie is
/// one browser session, gone at the next restart, not the key to every client. Each use of a link mints the next
/// one, written to <c>&lt;state&gt;/dashboard-link</c> (0600) and logged, so the owner can always sign in again.
/// </para>
/// </summary>
internal sealed class DashboardSessions : IBrowserSessions
{
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "peernet-session";

    /// <summary>A session unused this long ends.</summary>
    public static readonly TimeSpan IdleLimit = TimeSpan.FromHours(24);

    /// <summary>The most sessions kept; the least recently used goes first.</summary>
    public const int MaxSessions = 32;

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private byte[] _linkToken;

    public DashboardSessions(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _linkToken = NewSecret();
    }

    /// <summary>Raised with the new link token after each use of the last one.</summary>
    public event Action<string>? LinkRenewed;

    /// <summary>The one-time token of the current sign-in link.</summary>
    public string LinkToken
    {
        get
        {
            lock (_lock)
            {
                return Encoding.ASCII.GetString(_linkToken);
            }
        }
    }

    /// <summary>A session: its id's hash (the dictionary key) and its CSRF token.</summary>
    private sealed class Session(string csrf, long lastUsed)
    {
        public string Csrf { get; } = csrf;

        public long LastUsed { get; set; } = lastUsed;
    }

    /// <summary>
    /// Exchanges the link token for a new session (its cookie value returned), once: the token is replaced by a new
    /// one at the same moment. A wrong token returns null and changes nothing.
    /// </summary>
    public string? Redeem(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        string renewed;
        lock (_lock)
        {
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), _linkToken))
            {
                return null;
            }

            _linkToken = NewSecret();
            renewed = Encoding.ASCII.GetString(_linkToken);
        }

        string id = Encoding.ASCII.GetString(NewSecret());
        Prune();
        _sessions[Key(id)] = new Session(Encoding.ASCII.GetString(NewSecret()), _time.GetTimestamp());
        LinkRenewed?.Invoke(renewed);
        return id;
    }

    /// <summary>The live session this cookie value names (and marks it used), or null.</summary>
    private Session? Find(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 200 || !_sessions.TryGetValue(Key(cookie), out Session? session))
        {
            return null;
        }

        long now = _time.GetTimestamp();
        if (_time.GetElapsedTime(session.LastUsed, now) > IdleLimit)
        {
            _sessions.TryRemove(Key(cookie), out _);
            return null;
        }

        session.LastUsed = now;
        return session;
    }

    /// <summary>Ends the session this cookie value names.</summary>
    public void End(string? cookie)
    {
        if (!string.IsNullOrEmpty(cookie))
        {
            _sessions.TryRemove(Key(cookie), out _);
        }
    }

    /// <inheritdoc/>
    public string? CsrfTokenOf(HttpRequest request) => Find(request.Cookies[CookieName])?.Csrf;

    /// <summary>Drops idle sessions, and the least recently used while there are too many for one more.</summary>
    private void Prune()
    {
        long now = _time.GetTimestamp();
        foreach ((string key, Session s) in _sessions)
        {
            if (_time.GetElapsedTime(s.LastUsed, now) > IdleLimit)
            {
                _sessions.TryRemove(key, out _);
            }
        }

        while (_sessions.Count >= MaxSessions && _sessions.MinBy(p => p.Value.LastUsed) is { Key: { } oldest })
        {
            _sessions.TryRemove(oldest, out _);
        }
    }

    /// <summary>The dictionary key: the id's hash, so a lookup's timing says nothing about the ids kept.</summary>
    private static string Key(string id) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    /// <summary>32 random bytes, base64url (43 characters).</summary>
    private static byte[] NewSecret() =>
        Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_'));
}
