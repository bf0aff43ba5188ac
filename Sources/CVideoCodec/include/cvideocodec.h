// CVideoCodec: video files read and written as 8-bit RGB frames through FFmpeg's libraries (libavformat,
// libavcodec, libswscale), one frame at a time so memory stays bounded whatever the length.
//
// FFmpeg's types do not appear in this header; its log output is silenced and its errors come back as a
// status code and a message.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Outcome of a call.
typedef enum {
    CVID_OK = 0,
    CVID_END = 1,            ///< cvid_reader_next: no more frames
    CVID_NOT_VIDEO = 2,      ///< the file is not a container FFmpeg recognises, or has no video stream
    CVID_CORRUPT = 3,        ///< damaged container or stream data
    CVID_UNSUPPORTED = 4,    ///< no decoder or encoder, a frame size change, an unusable parameter
    CVID_NO_MEMORY = 5,      ///< an allocation failed
    CVID_IO = 6,             ///< the file cannot be opened, read or written
} cvid_status;

/// What cvid_reader_open learns about the first video stream.
typedef struct {
    uint32_t width, height;
    int32_t frame_rate_num, frame_rate_den;   ///< average frame rate (den 0 when unknown)
    int64_t frame_count;                      ///< video packets in the file (a demux pass, no decoding)
    char codec[32];                           ///< the decoder's short name (h264, mpeg4, ffv1…)
} cvid_info;

typedef struct cvid_reader cvid_reader;

/// Opens `path`, finds its best video stream and its decoder, and counts its packets. On success `*out` must be
/// closed with cvid_reader_close.
int cvid_reader_open(const char *path, cvid_reader **out, cvid_info *info, char *message, size_t message_length);

/// Decodes the next frame in presentation order into `rgb` (width·height·3 bytes, rows top to bottom), or skips
/// it without colour conversion when `rgb` is NULL. Returns CVID_END after the last frame.
int cvid_reader_next(cvid_reader *reader, uint8_t *rgb, char *message, size_t message_length);

void cvid_reader_close(cvid_reader *reader);

typedef struct cvid_writer cvid_writer;

/// Creates a video file at `path` whose container is chosen from the name `format_name` (e.g. the final name when
/// `path` is a temporary one): .mp4, .mkv, .mov, .avi… `codec` names an FFmpeg encoder, or NULL for libx264 when
/// available, else mpeg4. Frames are width×height RGB at `fps_num`/`fps_den` frames per second. Encoders that take
/// 8-bit RGB in some layout (ffv1, png, qtrle) get it rearranged exactly, so a lossless one stores the frames
/// exactly; the others get YUV 4:2:0, BT.601 limited range, and odd sides are padded to even ones by one
/// replicated row or column (the file's frames are then that much larger). `codec_used` receives the encoder's name.
int cvid_writer_open(const char *path, const char *format_name, uint32_t width, uint32_t height, int32_t fps_num,
                     int32_t fps_den, const char *codec, cvid_writer **out, char codec_used[32], char *message,
                     size_t message_length);

/// Encodes one width·height·3-byte RGB frame.
int cvid_writer_write(cvid_writer *writer, const uint8_t *rgb, char *message, size_t message_length);

/// Flushes the encoder, writes the trailer, closes the file and frees the writer (also on failure).
int cvid_writer_finish(cvid_writer *writer, char *message, size_t message_length);

/// Closes and frees a writer without finishing the file (the caller removes it).
void cvid_writer_abort(cvid_writer *writer);
