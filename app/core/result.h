#pragma once
// One way to return "a value or a sentence saying why not" from core code (style.md): the
// caller checks ok(), then reads value() or error(). Errors are whole sentences for a person.
// Header-only; used by the loop engine, its store and its trainer.
#include <QString>

#include <optional>
#include <utility>

namespace loopdeck {

template <typename T>
class [[nodiscard]] Result
{
public:
    Result(T value) : m_value(std::move(value)) {} // NOLINT: implicit on purpose
    static Result failure(QString error)
    {
        Result r;
        r.m_error = std::move(error);
        return r;
    }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return *m_value; }
    T &value() & { return *m_value; }
    T &&value() && { return std::move(*m_value); }
    const T *operator->() const { return &*m_value; }
    const T &operator*() const { return *m_value; }
    const QString &error() const { return m_error; }

private:
    Result() = default;
    std::optional<T> m_value;
    QString m_error;
};

// For operations that return nothing but may fail.
class [[nodiscard]] Status
{
public:
    Status() = default;
    static Status failure(QString error)
    {
        Status s;
        s.m_error = error.isEmpty() ? QStringLiteral("Unknown error.") : std::move(error);
        return s;
    }
    bool ok() const { return m_error.isEmpty(); }
    explicit operator bool() const { return ok(); }
    const QString &error() const { return m_error; }

private:
    QString m_error;
};

} // namespace loopdeck
