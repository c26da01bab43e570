namespace CriOci.Streaming.Spdy;

/// <summary>SPDY/3 control frame types (draft 3, section 2.6).</summary>
internal enum SpdyControlType : ushort
{
    SynStream = 1,
    SynReply = 2,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    Headers = 8,
    WindowUpdate = 9,
}

/// <summary>RST_STREAM status codes (section 2.6.3).</summary>
internal enum SpdyResetStatus : uint
{
    ProtocolError = 1,
    InvalidStream = 2,
    RefusedStream = 3,
    Cancel = 5,
    InternalError = 6,
    FlowControlError = 7,
}

/// <summary>Wire constants shared by the frame reader and writer.</summary>
internal static class SpdyWire
{
    public const ushort Version = 3;
    public const int FrameHeaderSize = 8;

    /// <summary>The largest payload the 24-bit length field can describe.</summary>
    public const int MaxFrameLength = (1 << 24) - 1;

    public const byte FlagFin = 0x01;
    public const byte FlagUnidirectional = 0x02;

    /// <summary>SETTINGS id of SETTINGS_INITIAL_WINDOW_SIZE (section 2.6.4).</summary>
    public const uint SettingsInitialWindowSize = 7;

    /// <summary>Every stream's window before any SETTINGS says otherwise (section 2.6.8).</summary>
    public const int DefaultInitialWindowSize = 64 * 1024;

    public const uint StreamIdMask = 0x7fffffff;
}

/// <summary>One frame as read: a control frame (type, flags, payload) or a data frame (stream id, flags, payload).</summary>
internal readonly record struct SpdyFrame(bool IsControl, SpdyControlType Type, byte Flags, uint StreamId, byte[] Payload)
{
    public bool IsFin => (Flags & SpdyWire.FlagFin) != 0;
}
