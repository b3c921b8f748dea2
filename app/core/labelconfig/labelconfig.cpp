#include "core/labelconfig/labelconfig.h"

#include <QCoreApplication>
#include <QHash>
#include <QXmlStreamReader>

namespace loopdeck::labelconfig {
namespace {

// A message in English (what the protocol sends) and in the user's language (what the GUI shows).
struct Msg {
    explicit Msg(const char *source)
        : english(QString::fromUtf8(source))
        , translated(QCoreApplication::translate("loopdeck::labelconfig::LabelConfig", source))
    {
    }
    Msg(QString en, QString tr)
        : english(std::move(en))
        , translated(std::move(tr))
    {
    }
    template<typename... Args>
    Msg arg(const Args &...args) const
    {
        return Msg(english.arg(args...), translated.arg(args...));
    }
    QString english;
    QString translated;
};

void setError(LabelConfig &config, const Msg &m)
{
    config.error = m.translated;
    config.errorEnglish = m.english;
}

void addProblem(LabelConfig &config, const Msg &m)
{
    config.unsupported.append(m.translated);
    config.unsupportedEnglish.append(m.english);
}

// An element that has a name and no toName: an object tag (Text, Image, ...).
struct ObjectTag {
    QString tag;
    QString name;
    QString value;
    QString valueType;
};

// A Choices control and the Choice items found inside it.
struct ChoicesTag {
    QString name;
    QString toName;
    QString choice;
    QString value; // dynamic choices ("$options") when set
    QStringList items;
    int line = 0;
};

QString attr(const QXmlStreamAttributes &attributes, QLatin1String name)
{
    // Label Studio treats tag and attribute names case-insensitively (toName == toname).
    for (const QXmlStreamAttribute &a : attributes)
        if (a.name().compare(name, Qt::CaseInsensitive) == 0)
            return a.value().toString();
    return {};
}

bool hasAttr(const QXmlStreamAttributes &attributes, QLatin1String name)
{
    for (const QXmlStreamAttribute &a : attributes)
        if (a.name().compare(name, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

bool is(QStringView tag, QLatin1String name)
{
    return tag.compare(name, Qt::CaseInsensitive) == 0;
}

// "$text" -> "text"; anything else (fixed text, "$a and $b") -> empty.
QString dataKeyOf(const QString &value)
{
    if (value.size() < 2 || !value.startsWith(u'$'))
        return {};
    const QStringView key = QStringView(value).mid(1);
    for (QChar c : key)
        if (!(c.isLetterOrNumber() || c == u'_' || c == u'-' || c == u'.'))
            return {};
    return key.toString();
}

} // namespace

LabelConfig parse(const QString &xml)
{
    LabelConfig config;
    if (xml.trimmed().isEmpty()) {
        setError(config, Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "The labeling configuration is empty.")));
        return config;
    }
    QXmlStreamReader reader(xml);
    QList<ObjectTag> objects;
    QList<ChoicesTag> choices;
    int choicesDepth = -1; // element depth of the open <Choices>, -1 when none is open
    int depth = 0;
    bool rootSeen = false;

    while (!reader.atEnd()) {
        const auto token = reader.readNext();
        if (token == QXmlStreamReader::EndElement) {
            if (depth == choicesDepth)
                choicesDepth = -1;
            --depth;
            continue;
        }
        if (token != QXmlStreamReader::StartElement)
            continue;
        ++depth;
        const QString tag = reader.name().toString();
        const QXmlStreamAttributes a = reader.attributes();
        if (!rootSeen) {
            rootSeen = true;
            if (!is(tag, QLatin1String("View"))) {
                setError(config, Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "The labeling configuration must start with <View>, not <%1>.")).arg(tag));
                return config;
            }
        }
        if (choicesDepth >= 0 && is(tag, QLatin1String("Choice"))) {
            const QString alias = attr(a, QLatin1String("alias"));
            // Label Studio stores the alias in results when one is set, else the value.
            const QString stored = alias.isEmpty() ? attr(a, QLatin1String("value")) : alias;
            if (!stored.isEmpty() && !choices.last().items.contains(stored))
                choices.last().items.append(stored);
            continue;
        }
        const QString name = attr(a, QLatin1String("name"));
        if (name.isEmpty())
            continue; // layout (View, Header, Style, ...) or an item tag
        if (hasAttr(a, QLatin1String("toName"))) {
            config.controls.append(tag + u':' + name);
            if (is(tag, QLatin1String("Choices"))) {
                ChoicesTag c;
                c.name = name;
                c.toName = attr(a, QLatin1String("toName")).trimmed();
                c.choice = attr(a, QLatin1String("choice")).trimmed().toLower();
                c.value = attr(a, QLatin1String("value"));
                c.line = static_cast<int>(reader.lineNumber());
                choices.append(c);
                choicesDepth = depth;
            } else {
                addProblem(config, 
                    Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "%1 \"%2\" is not a Choices control, so the text classifier cannot serve it."))
                        .arg(tag, name));
            }
        } else if (hasAttr(a, QLatin1String("value"))) {
            config.objects.append(tag + u':' + name);
            objects.append({tag, name, attr(a, QLatin1String("value")), attr(a, QLatin1String("valueType")).toLower()});
        }
    }
    if (reader.hasError()) {
        setError(config, Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "The labeling configuration is not valid XML (line %1, column %2): %3."))
                           .arg(reader.lineNumber())
                           .arg(reader.columnNumber())
                           .arg(reader.errorString()));
        config.objects.clear();
        config.controls.clear();
        config.unsupported.clear();
        return config;
    }

    QHash<QString, ObjectTag> byName;
    for (const ObjectTag &o : objects)
        byName.insert(o.name, o);

    for (const ChoicesTag &c : choices) {
        if (c.toName.isEmpty()) {
            addProblem(config, Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" has an empty toName.")).arg(c.name));
            continue;
        }
        if (c.toName.contains(u',')) {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" is bound to several objects (%2); only one Text object is supported."))
                    .arg(c.name, c.toName));
            continue;
        }
        const auto it = byName.constFind(c.toName);
        if (it == byName.cend()) {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" points to \"%2\", but the configuration has no object with that name."))
                    .arg(c.name, c.toName));
            continue;
        }
        if (!is(it->tag, QLatin1String("Text"))) {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" classifies the %2 object \"%3\", but the built-in model only reads Text."))
                    .arg(c.name, it->tag, it->name));
            continue;
        }
        const QString key = dataKeyOf(it->value);
        if (key.isEmpty()) {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Text \"%1\" shows fixed text (value=\"%2\") instead of a task field like \"$text\"."))
                    .arg(it->name, it->value));
            continue;
        }
        if (it->valueType == u"url") {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Text \"%1\" loads its content from a URL (valueType=\"url\"), which the model does not download."))
                    .arg(it->name));
            continue;
        }
        if (!c.value.isEmpty()) {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" takes its options from task data (value=\"%2\"), which the model cannot learn."))
                    .arg(c.name, c.value));
            continue;
        }
        if (!c.choice.isEmpty() && c.choice != u"single" && c.choice != u"single-radio" && c.choice != u"multiple") {
            addProblem(config, Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" has an unknown choice mode \"%2\".")).arg(c.name, c.choice));
            continue;
        }
        if (c.items.size() < 2) {
            addProblem(config, 
                Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "Choices \"%1\" offers %2 option(s); a classifier needs at least two."))
                    .arg(c.name)
                    .arg(c.items.size()));
            continue;
        }
        ClassificationTarget t;
        t.fromName = c.name;
        t.toName = c.toName;
        t.dataKey = key;
        t.multiple = c.choice == u"multiple";
        t.choices = c.items;
        config.targets.append(t);
    }
    return config;
}

namespace {

// Which of the problems best explains why nothing is served: the one about a Choices control or
// a Text object (the closest to servable), else the first. Decided on the English text, which
// does not depend on the user's language.
qsizetype bestProblem(const QStringList &english)
{
    if (english.size() == 1)
        return 0;
    for (qsizetype i = 0; i < english.size(); ++i)
        if (english[i].startsWith(u"Choices") || english[i].startsWith(u"Text"))
            return i;
    return 0;
}

Msg whyNothing(const LabelConfig &c)
{
    if (c.controls.isEmpty())
        return Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "The configuration has no controls, so there is nothing to predict."));
    return Msg(QT_TRANSLATE_NOOP("loopdeck::labelconfig::LabelConfig", "The configuration has no Choices control bound to a Text object."));
}

} // namespace

QString LabelConfig::reason() const
{
    if (!error.isEmpty())
        return error;
    if (!targets.isEmpty())
        return {};
    if (!unsupportedEnglish.isEmpty())
        return unsupported.value(bestProblem(unsupportedEnglish));
    return whyNothing(*this).translated;
}

QString LabelConfig::protocolReason() const
{
    if (!errorEnglish.isEmpty())
        return errorEnglish;
    if (!targets.isEmpty())
        return {};
    if (!unsupportedEnglish.isEmpty())
        return unsupportedEnglish.value(bestProblem(unsupportedEnglish));
    return whyNothing(*this).english;
}

} // namespace loopdeck::labelconfig
